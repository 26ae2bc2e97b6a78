using XenVmc.Guest.Channels;
using XenVmc.Guest.DataPath;
using XenVmc.Linux;
using XenVmc.Packets;
using XenVmc.Platform.Layout;
using XenVmc.Rings;

namespace XenVmc.Guest;

/// <summary>
/// Everything about one co-resident peer: the channel's life cycle (negotiate, connect, route,
/// watch, tear down, retry) on the control path, and the peer's share of the data path.
/// </summary>
/// <remarks>
/// Design: the control path runs as one async loop per peer (<see cref="RunAsync"/>). The data
/// path is the daemon's single data thread (<see cref="GuestDataPath"/>): it calls
/// <see cref="Transmit"/> (the only producer on our transmit ring) and, while the link is in its
/// receive set, <see cref="ReceiveBatch"/> (the only consumer of the receive ring). Teardown order
/// is the design's "route first, channel second": the kernel route goes, the link leaves the
/// lookup table, transmitters in flight are waited out, the data thread gives the receive ring
/// back, the ring is drained into the TUN, and only then are the pages unmapped.
/// </remarks>
internal sealed partial class PeerLink
{
    private readonly GuestContext _context;
    private readonly GuestDataPath _dataPath;
    private Channel? _channel;
    private string? _failure;
    private volatile bool _violated;
    private int _transmitters;
    private volatile bool _closing = true;

    /// <summary>The longest wait between attempts to (re)connect; also the quarantine after a violation.</summary>
    private const int MaxRetryDelayMs = 5000;

    public PeerLink(GuestContext context, GuestDataPath dataPath, PeerTableEntry entry)
    {
        _context = context;
        _dataPath = dataPath;
        Entry = entry;
        Sources = new PrefixTable<PeerLink>(entry.Addresses.Select(p => (p, this)));
        if (dataPath.CoalescesUdp)
        {
            _coalescer = new UdpCoalescer();
            _group = new GatherList(1 + UdpCoalescer.MaxSegments);
        }
    }

    public PeerTableEntry Entry { get; private set; }

    public ushort Peer => Entry.Domid;

    /// <summary>Networks a packet from this peer may carry its source in (Dom0's knowledge, not the peer's claim).</summary>
    public PrefixTable<PeerLink> Sources { get; private set; }

    public PeerCounters Counters { get; } = new();

    public string State { get; private set; } = "negotiating";

    public ChannelSide Side => _context.Domid < Peer ? ChannelSide.Low : ChannelSide.High;

    public DateTimeOffset? ConnectedSince { get; private set; }

    /// <summary>Ring bytes in use (transmit, receive) and the ring's size, sampled for status; zeros without a channel.</summary>
    public (int Transmit, int Receive, int Size) RingSample => _channel is { } c
        ? (c.Producer.UsedBytesSample, c.Consumer.UsedBytesSample, c.Producer.Capacity)
        : (0, 0, 0);

    /// <summary>The state of a low-side link whose channel would pass this domain's grant limit.</summary>
    public const string NoGrantBudgetState = "no grant budget";

    public async Task RunAsync(CancellationToken ct)
    {
        int delay = 200;
        int pages = GrantBudget.ChannelPages(_context.Options.RingBytes);
        while (!ct.IsCancellationRequested)
        {
            // The low side grants the pages: it reserves them first, or waits (once logged) until
            // a channel of ours is released.
            if (Side == ChannelSide.Low && !_context.Budget.TryReserve(pages, out var freed))
            {
                if (State != NoGrantBudgetState)
                {
                    State = NoGrantBudgetState;
                    _context.Log.NoGrantBudget(Peer, pages, _context.Budget.Used, _context.Budget.Limit ?? 0);
                }

                try
                {
                    await freed.WaitAsync(ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                continue;
            }

            string reason = "stopped";
            try
            {
                State = "negotiating";
                _channel = Side == ChannelSide.Low
                    ? await ChannelOffer.OfferAsync(_context, Peer, ct).ConfigureAwait(false)
                    : await ChannelAccept.AcceptAsync(_context, Peer, ct).ConfigureAwait(false);
                Connect();
                delay = 200;
                reason = await MonitorAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                reason = "peer left the table or the daemon stops";
            }
            // The peer, the hypervisor or the kernel (IOException) or the store failed; a bug of ours propagates.
            catch (Exception e) when (e is PeerProtocolException or IOException || XenStore.XenStoreFailure.Is(e))
            {
                reason = e.Message;
                if (_channel is null)
                {
                    _context.Log.PeerFailed(Peer, e.Message, delay);
                }
            }
            finally
            {
                await DisconnectAsync(reason).ConfigureAwait(false);
                if (Side == ChannelSide.Low)
                {
                    _context.Budget.Release(pages);
                }
            }

            bool quarantine = _violated;
            if (quarantine)
            {
                // A peer that broke the protocol waits out the longest delay before we trust it
                // with a channel again; its traffic takes eth0 meanwhile.
                _violated = false;
                delay = MaxRetryDelayMs;
            }

            try
            {
                await PauseAsync(delay, quarantine, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            delay = Math.Min(delay * 2, MaxRetryDelayMs);
        }
    }

    /// <summary>
    /// Waits before the next attempt. The high side goes again as soon as the peer's offer
    /// changes (a restarted peer withdraws its stale offer and writes a new one) instead of
    /// sleeping out a backoff that has grown while the old offer could not be mapped; the delay
    /// is then only the longest wait. The low side, and a peer in quarantine, wait the delay.
    /// </summary>
    private async Task PauseAsync(int delay, bool quarantine, CancellationToken ct)
    {
        const int MinimumMs = 200;
        if (Side == ChannelSide.Low || quarantine || delay <= MinimumMs)
        {
            await Task.Delay(delay, ct).ConfigureAwait(false);
            return;
        }

        long deadline = Environment.TickCount64 + delay;
        await Task.Delay(MinimumMs, ct).ConfigureAwait(false);
        try
        {
            string offerState = XenVmcPaths.Channel(Peer, _context.Domid) + "/" + ChannelNodes.State;
            await using var watch = await _context.Store.WatchAsync(offerState, _context.NextToken(), ct).ConfigureAwait(false);

            // A new watch fires once when it is set: that event says nothing.
            await _context.WaitForEventAsync(watch, TimeSpan.FromMilliseconds(Math.Max(0, deadline - Environment.TickCount64)), ct).ConfigureAwait(false);
            await _context.WaitForEventAsync(watch, TimeSpan.FromMilliseconds(Math.Max(0, deadline - Environment.TickCount64)), ct).ConfigureAwait(false);
        }
        catch (Exception e) when (XenStore.XenStoreFailure.Is(e))
        {
            // Without the store nothing can change the offer either: wait out the delay.
            await Task.Delay((int)Math.Max(0, deadline - Environment.TickCount64), ct).ConfigureAwait(false);
        }
    }

    private void Connect()
    {
        var channel = _channel!;
        Volatile.Write(ref _failure, null);
        _receiveStopped = false;
        _spaceTimedOut = false;
        _closing = false;
        _badSourceStreakStart = 0;
        _dataPath.Publish(this);
        _dataPath.Routes.Install(Entry.Addresses);

        // Deliver the peer's packets only once our route to it exists: the kernel checks a
        // packet's source against the routes (see GuestDaemon.ConfigureSysctls), and what the
        // peer sent before this moment waits in the ring.
        _dataPath.StartReceiving(this);
        State = "connected";
        ConnectedSince = DateTimeOffset.UtcNow;
        _context.Log.PeerConnected(Peer, Side.ToString().ToLowerInvariant(), Entry.AddressText, _context.Options.Interface);
        if (!IsStale(channel))
        {
            channel.Control.BeatHeart(channel.Side);
        }
    }

    /// <summary>Watches the channel until something ends it; returns the reason.</summary>
    private async Task<string> MonitorAsync(CancellationToken ct)
    {
        var channel = _channel!;
        // The low side watches the peer's answer, the high side the offer: both live at this path.
        string peerNode = XenVmcPaths.Channel(Peer, _context.Domid) + "/" + ChannelNodes.State;
        string expected = Side == ChannelSide.Low ? XenVmcPaths.Connected : XenVmcPaths.Offered;
        await using var watch = await _context.Store.WatchAsync(peerNode, _context.NextToken(), ct).ConfigureAwait(false);
        ulong lastBeat = IsStale(channel) ? 0 : channel.Control.GetHeartbeat(channel.PeerSide);
        long lastChange = Environment.TickCount64;
        // The live byte is looked at every tick whatever the heartbeat timeout: a peer that left
        // (or whose mapping the hypervisor tore down) is seen within a quarter second even where a
        // long timeout tolerates starved vCPUs.
        var tick = TimeSpan.FromMilliseconds(Math.Clamp(_context.Options.PeerTimeout.TotalMilliseconds / 6, 50, 250));
        while (true)
        {
            bool fired = await _context.WaitForEventAsync(watch, tick, ct).ConfigureAwait(false);
            if (IsStale(channel))
            {
                return "this domain was suspended and resumed (saved and restored, or migrated): the peer's pages are no longer mapped";
            }

            channel.Control.BeatHeart(channel.Side);
            if (Volatile.Read(ref _failure) is { } failure)
            {
                return failure;
            }

            if (channel.Control.GetLive(channel.PeerSide) != ChannelLiveness.Connected)
            {
                return "the peer left the channel";
            }

            ulong beat = channel.Control.GetHeartbeat(channel.PeerSide);
            if (beat != lastBeat)
            {
                lastBeat = beat;
                lastChange = Environment.TickCount64;
            }
            else if (Environment.TickCount64 - lastChange > _context.Options.PeerTimeout.TotalMilliseconds)
            {
                return $"no heartbeat from the peer for {_context.Options.PeerTimeout.TotalSeconds:0.#} s";
            }

            // The node is read when the watch fires (it does once when set), not every tick: a
            // XenStore round trip 4 times a second per peer costs both guests and Dom0 on real Xen.
            if (fired && watch.Events.Count == 0 && await _context.TryReadAsync(peerNode, ct).ConfigureAwait(false) != expected)
            {
                return "the peer withdrew its channel nodes";
            }
        }
    }

    private async Task DisconnectAsync(string reason)
    {
        var channel = _channel;
        if (channel is null)
        {
            return;
        }

        bool wasConnected = !_closing;
        if (wasConnected)
        {
            _dataPath.Routes.Remove(Entry.Addresses);
            _dataPath.Withdraw(this);
            _closing = true;

            // Full fence: _closing is visible before _transmitters is read (Transmit increments,
            // a full fence, before it reads _closing), so no transmitter is missed.
            Interlocked.MemoryBarrier();
            while (Volatile.Read(ref _transmitters) != 0)
            {
                Thread.Yield();
            }
        }

        if (_dataPath.StopReceiving(this))
        {
            DrainAtClose(channel);
        }

        if (wasConnected && !IsStale(channel))
        {
            Counters.TxUnconsumedAtClose += channel.Producer.CountUnconsumed();
        }

        _channel = null;
        channel.Close(_context.Resume);
        ConnectedSince = null;
        State = "disconnected";
        await RemoveOwnNodesAsync().ConfigureAwait(false);
        if (wasConnected)
        {
            _context.Log.PeerDisconnected(Peer, reason);
        }
    }

    private async Task RemoveOwnNodesAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await _context.RemoveAsync(XenVmcPaths.Channel(_context.Domid, Peer), default, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException || XenStore.XenStoreFailure.Is(e))
        {
            // The store may be gone (shutdown, migration); our nodes go with our domain then.
        }
    }
}
