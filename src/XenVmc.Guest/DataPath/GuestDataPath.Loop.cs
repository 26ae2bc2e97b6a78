using XenVmc.Linux;
using XenVmc.Packets;
using XenVmc.Platform;

namespace XenVmc.Guest.DataPath;

/// <summary>The data thread: one poll loop over the TUN and every receiving peer's event channel.</summary>
/// <remarks>
/// Design: a pass takes up to <see cref="RxBatch"/> records from each receive ring into the TUN
/// and up to <see cref="TxBatch"/> packets from the TUN onto the rings. Passes repeat while
/// they find work; only a pass that found nothing prepares to sleep (each ring's
/// "consumer sleeping" flag, re-checked behind a fence, so peers notify only a sleeping thread)
/// and polls. A packet whose ring is full is kept (<see cref="_pending"/>): the TUN is left
/// unread meanwhile (the kernel queues for us) while the receive rings are still served, so two
/// daemons waiting for each other's space cannot stall each other; after
/// <see cref="SpaceWaitMs"/> the packet is dropped and the TUN read again, so a slow peer stalls
/// the others for at most that long. After its last work the thread keeps making passes for
/// <see cref="PollMicroseconds"/> (with sched_yield between them, so runnable threads on a busy
/// CPU go first) before it sleeps: a request/reply exchange then finds it awake instead of paying
/// a wake-up per packet; README "Performance" has the figures.
/// </remarks>
internal sealed partial class GuestDataPath
{
    /// <summary>Packets read from the TUN per pass before the receive rings get their turn.</summary>
    private const int TxBatch = 64;

    /// <summary>Records taken from one peer's ring per pass before the next peer and the TUN get their turn.</summary>
    private const int RxBatch = 64;

    /// <summary>How long a packet waits for space in a full ring before it is dropped.</summary>
    internal const int SpaceWaitMs = 10;

    /// <summary>Packets read straight into a ring (data thread only; for tests).</summary>
    internal long DirectReads { get; private set; }

    /// <summary>How long the thread keeps polling (yielding the CPU between passes) after its last work before it sleeps.</summary>
    public int PollMicroseconds { get; init; }

    /// <summary>
    /// After a packet at least this long the next one is read straight into the ring: bulk
    /// traffic saves a copy (README "Performance"), while small packets, for
    /// which reserving room for a maximal packet costs more than the copy it saves, go through
    /// the private buffer.
    /// </summary>
    private const int DirectReadMinBytes = 16 * 1024;

    // Owned by the data thread (and by tests driving RunPass without it).
    private int _lastReadLength;
    private int _drainedWithdrawals;
    private PeerLink? _pending;
    private int _pendingLength;
    private long _pendingDeadline;

    private void DataLoop()
    {
        byte[] tunBuffer = GC.AllocateUninitializedArray<byte>(TunDevice.MaxPacketSize + 1, pinned: true);
        byte[] rxBuffer = GC.AllocateUninitializedArray<byte>(Channels.ChannelNodes.MaxRecordPayload, pinned: true);
        PeerLink[]? polled = null;
        PollEntry[] entries = [];
        IEventPort?[] ports = [];
        short[] revents = [];
        long spinTicks = PollMicroseconds * System.Diagnostics.Stopwatch.Frequency / 1_000_000;
        long lastWork = 0;
        bool anyPolled = false;
        while (!_stopping)
        {
            // Interlocked: StopReceiving relies on the set read below coming after this store.
            Interlocked.Increment(ref _heartbeat);
            var links = Volatile.Read(ref _receivers);
            if (!ReferenceEquals(links, polled))
            {
                // Only when a peer connects or leaves: the descriptors to poll, TUN and wake first.
                polled = links;
                ports = [.. links.Select(l => l.ReceivePort)];
                anyPolled = ports.Any(p => p is { Polled: true });
                entries = new PollEntry[2 + links.Length];
                entries[1] = new PollEntry(_wake.Handle, Poll.POLLIN);
                for (int i = 0; i < ports.Length; i++)
                {
                    entries[2 + i] = ports[i] is { Polled: false } port ? new PollEntry(port.WaitHandle, Poll.POLLIN) : new PollEntry(_wake.Handle, 0);
                }

                revents = new short[entries.Length];
            }

            if (RunPass(links, tunBuffer, rxBuffer))
            {
                lastWork = System.Diagnostics.Stopwatch.GetTimestamp();
            }
            else if (System.Diagnostics.Stopwatch.GetTimestamp() - lastWork < spinTicks)
            {
                Thread.Yield();
            }
            else
            {
                Sleep(links, ports, entries, revents, anyPolled ? PolledWakeMs : ReaderIdleWakeMs);
            }
        }
    }

    /// <summary>
    /// One pass over every receiving link and the TUN; true when it moved or dropped anything (so
    /// another pass is due before sleeping). The per-packet path in both directions: allocates
    /// nothing (a test proves it).
    /// </summary>
    internal bool RunPass(byte[] tunBuffer, byte[] rxBuffer) => RunPass(Volatile.Read(ref _receivers), tunBuffer, rxBuffer);

    private bool RunPass(PeerLink[] links, byte[] tunBuffer, byte[] rxBuffer)
    {
        bool busy = false;
        foreach (var link in links)
        {
            busy |= link.ReceiveBatch(rxBuffer, RxBatch) > 0;
        }

        return TransmitBatch(tunBuffer) | busy;
    }

    private bool TransmitBatch(byte[] buffer)
    {
        bool busy = false;
        if (_pending is { } waiting)
        {
            var result = waiting.Transmit(buffer.AsSpan(0, _pendingLength), Counters);
            if (result == TransmitResult.Full)
            {
                if (Environment.TickCount64 < _pendingDeadline)
                {
                    return false;
                }

                waiting.DropFull();
            }

            _pending = null;
            busy = true;
        }

        // Read before any TUN read of this batch: an empty read then proves every packet queued
        // before those withdrawals (their routes went first) has been taken.
        int withdrawals = Volatile.Read(ref _withdrawals);
        for (int i = 0; i < TxBatch; i++)
        {
            int length;
            try
            {
                if (_lastReadLength >= DirectReadMinBytes && DirectReadLink() is { } only)
                {
                    // One peer, bulk traffic: read straight into its ring (see PeerLink.TransmitFromTun).
                    length = only.TransmitFromTun(_tun, buffer, this);
                    if (length >= 0)
                    {
                        DirectReads++;
                        _lastReadLength = length;
                        busy = true;
                        continue;
                    }

                    if (length == -1)
                    {
                        _drainedWithdrawals = withdrawals;
                        return busy;
                    }
                }

                length = _tun.Read(buffer);
            }
            catch (LinuxException)
            {
                Counters.ReadErrors++;
                return true;
            }

            if (length < 0)
            {
                _drainedWithdrawals = withdrawals;
                return busy;
            }

            busy = true;
            _lastReadLength = length;
            if (Forward(buffer.AsSpan(0, length)) is { } full)
            {
                _pending = full;
                _pendingLength = length;
                _pendingDeadline = Environment.TickCount64 + SpaceWaitMs;
                return true;
            }
        }

        return true;
    }

    /// <summary>
    /// The link a packet may be read straight into: the only one published, and only once the
    /// TUN has been seen empty since the last link was withdrawn. The kernel writes the packet
    /// into the ring before we parse it, so the peer can see it even when we then drop it; a
    /// packet still queued for a peer that just left must not land in the remaining peer's ring.
    /// </summary>
    private PeerLink? DirectReadLink()
    {
        // _only first: Withdraw counts the withdrawal before it publishes the remaining link.
        var only = Volatile.Read(ref _only);
        return only is not null && Volatile.Read(ref _withdrawals) == _drainedWithdrawals ? only : null;
    }

    /// <summary>Hands one packet read from the TUN to its peer's link; returns the link when its ring is full.</summary>
    private PeerLink? Forward(ReadOnlySpan<byte> record)
    {
        PacketInfo info = default;
        var reason = record.Length > VirtioNetHeader.Size ? PacketParser.TryParse(record[VirtioNetHeader.Size..], out info) : PacketDropReason.Truncated;
        if (Route(reason, info, record.Length) is not { } link)
        {
            return null;
        }

        return link.Transmit(record, Counters) == TransmitResult.Full ? link : null;
    }

    /// <summary>Counts a packet read from the TUN and returns the link of its destination, or null (counted) when it goes nowhere.</summary>
    internal PeerLink? Route(PacketDropReason reason, in PacketInfo info, int length)
    {
        Counters.ReadPackets++;
        Counters.ReadBytes += length;
        if (reason != PacketDropReason.None)
        {
            Counters.Malformed[(int)reason]++;
            return null;
        }

        if (Volatile.Read(ref _byDestination).Lookup(info.Destination) is not { } link)
        {
            Counters.NoPeer++;
            return null;
        }

        return link;
    }

    /// <summary>Nothing to do: arm every ring's wakeup, then poll until a peer, the TUN or the control path wakes us.</summary>
    /// <summary>
    /// How long the thread sleeps while a receiving channel has no event channel
    /// (<see cref="IEventPort.Polled"/>): the delay a packet from such a peer may wait when it
    /// finds the thread asleep, and the cost of an idle thread, one pass per interval.
    /// </summary>
    internal const int PolledWakeMs = 1;

    private void Sleep(PeerLink[] links, IEventPort?[] ports, PollEntry[] entries, short[] revents, int idleTimeout)
    {
        foreach (var link in links)
        {
            if (!link.PrepareToSleep())
            {
                return;
            }
        }

        int timeout = idleTimeout;
        short tunEvents = Poll.POLLIN;
        if (_pending is { } waiting)
        {
            if (!waiting.PrepareToWaitForSpace(_pendingLength))
            {
                return;
            }

            // The TUN stays unread while a packet waits for space; only the rings and the clock wake us.
            timeout = (int)Math.Clamp(_pendingDeadline - Environment.TickCount64, 0, Math.Min(SpaceWaitMs, idleTimeout));
            tunEvents = 0;
        }

        entries[0] = new PollEntry(_tun.Handle, tunEvents);
        if (Poll.Wait(entries, revents, timeout) == 0)
        {
            return;
        }

        if (revents[1] != 0)
        {
            _wake.Consume();
        }

        // Every ready port is consumed, even one whose link stopped receiving: a pending event
        // left there would keep poll returning at once.
        for (int i = 0; i < ports.Length; i++)
        {
            if (revents[2 + i] != 0)
            {
                ports[i]?.TryConsume();
            }
        }
    }
}
