using System.Net;
using XenVmc.Linux;
using XenVmc.Packets;

namespace XenVmc.Guest.DataPath;

/// <summary>
/// The TUN side of the guest daemon: one thread reads packets the kernel routed into the TUN
/// and hands each to the link of the peer owning its destination; links write what they
/// receive back into the TUN.
/// </summary>
/// <remarks>
/// Design: the destination lookup table is an immutable dictionary swapped whole under a lock
/// held only by the control path; the reader thread takes one volatile read per packet and no
/// lock. Local addresses (for checking what peers send us) are refreshed the same way.
/// Writes into the TUN come from several receive threads; a TUN write is one syscall per packet
/// and the kernel serializes them.
/// </remarks>
internal sealed class GuestDataPath : IDisposable
{
    /// <summary>An idle reader still wakes this often, so its heartbeat shows it is alive.</summary>
    private const int ReaderIdleWakeMs = 1000;

    private readonly TunDevice _tun;
    private readonly GuestLog _log;
    private readonly Lock _lock = new();
    private readonly EventFd _stop = EventFd.Create(nonBlocking: true);
    private Dictionary<IpKey, PeerLink> _byDestination = [];
    private HashSet<IpKey> _localAddresses = [];
    private Thread? _reader;
    private volatile bool _stopping;
    private int _writeErrorsLogged;
    private long _heartbeat;

    public GuestDataPath(TunDevice tun, RouteManager routes, GuestLog log)
    {
        _tun = tun;
        Routes = routes;
        _log = log;
    }

    public RouteManager Routes { get; }

    public TunCounters Counters { get; } = new();

    public string InterfaceName => _tun.Name;

    /// <summary>Advances on every pass of the TUN reader, at least once a second while idle: what the watchdog checks.</summary>
    public long Heartbeat => Volatile.Read(ref _heartbeat);

    public bool ReaderAlive => _reader?.IsAlive == true;

    public void Start()
    {
        _reader = new Thread(ReadLoop) { IsBackground = true, Name = "xenvmc tun reader" };
        _reader.Start();
    }

    public void Publish(PeerLink link)
    {
        lock (_lock)
        {
            var next = new Dictionary<IpKey, PeerLink>(_byDestination);
            foreach (var address in link.Sources)
            {
                next[address] = link;
            }

            Volatile.Write(ref _byDestination, next);
        }
    }

    public void Withdraw(PeerLink link)
    {
        lock (_lock)
        {
            var next = new Dictionary<IpKey, PeerLink>(_byDestination);
            foreach (var (address, owner) in _byDestination)
            {
                if (owner == link)
                {
                    next.Remove(address);
                }
            }

            Volatile.Write(ref _byDestination, next);
        }
    }

    public void SetLocalAddresses(IEnumerable<IPAddress> addresses) =>
        Volatile.Write(ref _localAddresses, addresses.Select(IpKey.FromIPAddress).ToHashSet());

    public bool IsLocalAddress(IpKey address) => Volatile.Read(ref _localAddresses).Contains(address);

    /// <summary>Writes one packet made of two parts (private headers, then payload) with one writev.</summary>
    public bool WriteToTun(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        try
        {
            if (second.IsEmpty)
            {
                _tun.Write(first);
            }
            else
            {
                _tun.Write(first, second);
            }

            return true;
        }
        catch (LinuxException e)
        {
            // One line, not one per packet: the counters carry the rest.
            if (Interlocked.Exchange(ref _writeErrorsLogged, 1) == 0)
            {
                _log.TunWriteFailed(_tun.Name, e.Message);
            }

            return false;
        }
    }

    private void ReadLoop()
    {
        byte[] buffer = GC.AllocateUninitializedArray<byte>(VirtioNetHeader.Size + 65535 + 1, pinned: true);
        Span<PollEntry> entries = [new PollEntry(_tun.Handle, Poll.POLLIN), new PollEntry(_stop.Handle, Poll.POLLIN)];
        Span<short> revents = stackalloc short[2];
        while (!_stopping)
        {
            Volatile.Write(ref _heartbeat, _heartbeat + 1);
            if (!ReadAndForward(buffer))
            {
                Poll.Wait(entries, revents, ReaderIdleWakeMs);
            }
        }
    }

    /// <summary>
    /// Reads one packet from the (non-blocking) TUN and hands it to its peer's link; false when
    /// none is queued or the read failed. The per-packet transmit path: allocates nothing (a test
    /// proves it).
    /// </summary>
    internal bool ReadAndForward(byte[] buffer)
    {
        int length;
        try
        {
            length = _tun.Read(buffer);
        }
        catch (LinuxException)
        {
            Counters.ReadErrors++;
            return false;
        }

        if (length < 0)
        {
            return false;
        }

        Forward(buffer.AsSpan(0, length));
        return true;
    }

    private void Forward(ReadOnlySpan<byte> record)
    {
        Counters.ReadPackets++;
        Counters.ReadBytes += record.Length;
        if (record.Length <= VirtioNetHeader.Size)
        {
            Counters.Malformed[(int)PacketDropReason.Truncated]++;
            return;
        }

        var reason = PacketParser.TryParse(record[VirtioNetHeader.Size..], out var info);
        if (reason != PacketDropReason.None)
        {
            Counters.Malformed[(int)reason]++;
            return;
        }

        if (!Volatile.Read(ref _byDestination).TryGetValue(info.Destination, out var link))
        {
            Counters.NoPeer++;
            return;
        }

        link.Transmit(record, Counters);
    }

    public void Dispose()
    {
        _stopping = true;
        _stop.Signal(1);
        _reader?.Join();
        _stop.Dispose();
    }
}
