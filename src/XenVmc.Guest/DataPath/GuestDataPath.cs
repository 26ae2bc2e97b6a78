using System.Net;
using XenVmc.Linux;
using XenVmc.Packets;

namespace XenVmc.Guest.DataPath;

/// <summary>
/// The guest's data path: one thread moves packets the kernel routed into the TUN onto the ring
/// of the peer owning their destination, and records from every connected peer's receive ring
/// back into the TUN.
/// </summary>
/// <remarks>
/// Design: one data thread per daemon serves the TUN descriptor and every peer's event-channel
/// descriptor from one poll loop (see GuestDataPath.Loop.cs). A round trip through two
/// daemons then wakes at most one thread per daemon and direction, and a busy thread drains
/// both directions without sleeping in between. The destination lookup table and the set of
/// receiving links are immutable and swapped whole under a lock held only by the control path;
/// the data thread takes one volatile read of each per pass and no lock. Local addresses (for
/// checking what peers send us) are refreshed the same way. The control path hands a link's
/// receive ring back (to drain it at close) only after the data thread has finished the pass
/// that might still have used it (<see cref="StopReceiving"/>).
/// </remarks>
internal sealed partial class GuestDataPath : IDisposable
{
    /// <summary>An idle data thread still wakes this often, so its heartbeat shows it is alive.</summary>
    private const int ReaderIdleWakeMs = 1000;

    private readonly IPacketQueue _tun;
    private readonly GuestLog _log;
    private readonly Lock _lock = new();
    private readonly EventFd _wake = EventFd.Create(nonBlocking: true);
    private PrefixTable<PeerLink> _byDestination = PrefixTable<PeerLink>.Empty;
    private PeerLink? _only;
    private int _withdrawals;
    private PeerLink[] _receivers = [];
    private HashSet<IpKey> _localAddresses = [];
    private PrefixTable<object> _ownGrant = PrefixTable<object>.Empty;
    private Thread? _reader;
    private volatile bool _stopping;
    private int _writeErrorsLogged;
    private long _heartbeat;

    public GuestDataPath(IPacketQueue tun, RouteManager routes, GuestLog log)
    {
        _tun = tun;
        Routes = routes;
        _log = log;
    }

    public RouteManager Routes { get; }

    public TunCounters Counters { get; } = new();

    /// <summary>Suspend/resume cycles of this domain (save/restore, migration): channels mapped before one are not touched after it.</summary>
    public ResumeEpoch Resume { get; } = new();

    public string InterfaceName => _tun.Name;

    /// <summary>Whether UDP coalescing was asked for (<see cref="GuestOptions.CoalesceUdp"/>).</summary>
    public bool CoalesceUdp { get; init; }

    /// <summary>
    /// Coalescing was asked for and the kernel takes UDP_L4 GSO writes on this TUN (it accepted
    /// TUN_F_USO4|USO6): consecutive UDP records of one flow from a peer are then written as one
    /// super-packet.
    /// </summary>
    public bool CoalescesUdp => CoalesceUdp && _tun.UdpSegmentationOffload;

    /// <summary>Advances on every pass of the data thread, at least once a second while idle: what the watchdog checks.</summary>
    public long Heartbeat => Volatile.Read(ref _heartbeat);

    public bool ReaderAlive => _reader?.IsAlive == true;

    public void Start()
    {
        _reader = new Thread(DataLoop) { IsBackground = true, Name = $"xenvmc data {_tun.Name}" };
        _reader.Start();
    }

    public void Publish(PeerLink link)
    {
        lock (_lock)
        {
            var next = new PrefixTable<PeerLink>(_byDestination.Entries.Where(e => e.Owner != link).Concat(link.Entry.Addresses.Select(p => (p, link))));
            Volatile.Write(ref _byDestination, next);
            Volatile.Write(ref _only, OnlyLink(next));
        }
    }

    /// <summary>
    /// Hands <paramref name="link"/>'s receive ring to the data thread. Called once the link's
    /// routes are installed: the kernel's reverse-path filter drops packets from a peer whose
    /// route does not exist yet.
    /// </summary>
    public void StartReceiving(PeerLink link)
    {
        lock (_lock)
        {
            if (Array.IndexOf(_receivers, link) < 0)
            {
                Interlocked.Exchange(ref _receivers, [.. _receivers, link]);
            }
        }

        _wake.Signal(1);
    }

    /// <summary>
    /// Takes <paramref name="link"/>'s receive ring back from the data thread: on return the
    /// thread no longer touches it (it has finished every pass that might have), so the caller
    /// may drain it and unmap it. False when the link was not receiving.
    /// </summary>
    public bool StopReceiving(PeerLink link)
    {
        lock (_lock)
        {
            if (Array.IndexOf(_receivers, link) < 0)
            {
                return false;
            }

            // A full fence (Interlocked.Exchange): the new set is visible before the pass counter
            // is read below, so every pass numbered after that reading uses the new set; the pass
            // in progress (the one that may still use the old set) ends before the counter moves.
            Interlocked.Exchange(ref _receivers, [.. _receivers.Where(l => l != link)]);
        }

        long pass = Volatile.Read(ref _heartbeat);
        _wake.Signal(1);
        while (Volatile.Read(ref _heartbeat) == pass && _reader is { IsAlive: true } && !_stopping)
        {
            Thread.Sleep(1);
        }

        return true;
    }

    public void Withdraw(PeerLink link)
    {
        lock (_lock)
        {
            var next = new PrefixTable<PeerLink>(_byDestination.Entries.Where(e => e.Owner != link));
            Volatile.Write(ref _byDestination, next);

            // Counted before _only can name the remaining link: see DirectReadLink.
            Interlocked.Increment(ref _withdrawals);
            Volatile.Write(ref _only, OnlyLink(next));
        }
    }

    /// <summary>The one link every destination leads to, or null when there are none or several.</summary>
    private static PeerLink? OnlyLink(PrefixTable<PeerLink> table)
    {
        PeerLink? only = null;
        foreach (var link in table.Owners)
        {
            if (only is not null && only != link)
            {
                return null;
            }

            only = link;
        }

        return only;
    }

    public void SetLocalAddresses(IEnumerable<IPAddress> addresses) =>
        Volatile.Write(ref _localAddresses, addresses.Select(IpKey.FromIPAddress).ToHashSet());

    /// <summary>The networks Dom0 grants this guest (<c>self/ip</c>): a peer may send to any address in them, ours or routed behind us.</summary>
    public void SetOwnGrant(IEnumerable<Platform.Layout.IpPrefix> grant) =>
        Volatile.Write(ref _ownGrant, new PrefixTable<object>(grant.Select(p => (p, (object)this))));

    /// <summary>An address of ours, or inside a network granted to us (the kernel forwards beyond that).</summary>
    public bool IsLocalAddress(IpKey address) =>
        Volatile.Read(ref _localAddresses).Contains(address) || Volatile.Read(ref _ownGrant).Lookup(address) is not null;

    /// <summary>
    /// The peer whose network is the longest match for <paramref name="address"/> among the
    /// published links: the only peer from which a packet with that source is admitted.
    /// </summary>
    public PeerLink? OwnerOf(IpKey address) => Volatile.Read(ref _byDestination).Lookup(address);

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
            return WriteFailed(e);
        }
    }

    /// <summary>Writes one packet gathered from several parts (a GSO super-packet's headers and payloads) with one writev.</summary>
    public bool WriteToTun(GatherList packet)
    {
        try
        {
            _tun.Write(packet);
            return true;
        }
        catch (LinuxException e)
        {
            return WriteFailed(e);
        }
    }

    /// <summary>A write into the TUN failed: one log line, not one per packet (the counters carry the rest); false.</summary>
    private bool WriteFailed(LinuxException e)
    {
        if (Interlocked.Exchange(ref _writeErrorsLogged, 1) == 0)
        {
            _log.TunWriteFailed(_tun.Name, e.Message);
        }

        return false;
    }

    public void Dispose()
    {
        _stopping = true;
        _wake.Signal(1);
        _reader?.Join();
        _wake.Dispose();
    }
}
