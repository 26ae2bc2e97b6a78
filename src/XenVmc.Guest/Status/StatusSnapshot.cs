using System.Text.Json.Serialization;
using XenVmc.Guest.DataPath;
using XenVmc.Packets;

namespace XenVmc.Guest.Status;

/// <summary>What <c>xenvmc status</c> shows: the daemon, each peer's channel, and the counters.</summary>
public sealed record StatusSnapshot(
    int Domid,
    string Interface,
    string Platform,
    DateTimeOffset Time,
    int Sessions,
    IReadOnlyList<PeerStatus> Peers,
    CounterTotals Totals,
    TunStatus Tun)
{
    /// <summary>Co-resident guests Dom0 would pair us with but keeps on the bridge because its packet filter may concern our traffic.</summary>
    public IReadOnlyList<HeldPeer> Held { get; init; } = [];

    /// <summary>Set when our own nft rules name eth0 and not the bypass interface.</summary>
    public string? FirewallWarning { get; init; }

    private static readonly DateTimeOffset ProcessStart = new DateTimeOffset(System.Diagnostics.Process.GetCurrentProcess().StartTime).ToUniversalTime();

    /// <summary>When the daemon's process started (for uptime).</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>Passes the data thread (TUN and rings) has made; it makes one at least every second, idle or not.</summary>
    public long DataThreadPasses { get; init; }

    internal static StatusSnapshot Create(int domid, string platform, GuestDataPath dataPath, IEnumerable<PeerLink> links, PeerCounters totals, int sessions) => new(
        domid,
        dataPath.InterfaceName,
        platform,
        DateTimeOffset.UtcNow,
        sessions,
        [.. links.OrderBy(l => l.Peer).Select(PeerStatus.From)],
        CounterTotals.From(totals),
        TunStatus.From(dataPath.Counters))
    {
        StartedAt = ProcessStart,
        DataThreadPasses = dataPath.Heartbeat,
    };
}

/// <summary>A peer Dom0 holds on the bridge, with Dom0's reason (the filter rule).</summary>
public sealed record HeldPeer(int Domid, string Reason);

/// <summary>Counters over every link this daemon has had, the closed ones included: what accounting needs after a peer left.</summary>
public sealed record CounterTotals(long TxPackets, long TxBytes, long RxPackets, long RxBytes, long TxUnconsumedAtClose, long RxDrainedAtClose, IReadOnlyDictionary<string, long> Drops, IReadOnlyDictionary<string, long> Violations)
{
    internal static CounterTotals From(PeerCounters c) =>
        new(c.TxPackets, c.TxBytes, c.RxPackets, c.RxBytes, c.TxUnconsumedAtClose, c.RxDrainedAtClose, PeerStatus.DropsOf(c), PeerViolations.Snapshot(c.Violations));
}

public sealed record PeerStatus(
    int Domid,
    IReadOnlyList<string> Addresses,
    string State,
    string Side,
    DateTimeOffset? ConnectedSince,
    long TxPackets,
    long TxBytes,
    long RxPackets,
    long RxBytes,
    IReadOnlyDictionary<string, long> Drops,
    long Notifications,
    long TxUnconsumedAtClose,
    long RxDrainedAtClose,
    IReadOnlyDictionary<string, long> Violations)
{
    /// <summary>Bytes in the transmit ring as last seen (a sample; 0 without a channel).</summary>
    public int TxRingUsedBytes { get; init; }

    /// <summary>Bytes in the receive ring as last seen (a sample; 0 without a channel).</summary>
    public int RxRingUsedBytes { get; init; }

    /// <summary>Each ring direction's size in bytes; 0 without a channel.</summary>
    public int RingSizeBytes { get; init; }

    internal static PeerStatus From(PeerLink link)
    {
        var c = link.Counters;
        var ring = link.RingSample;
        return new PeerStatus(
            link.Peer,
            [.. link.Entry.Addresses.Select(a => a.ToString())],
            link.State,
            link.Side.ToString().ToLowerInvariant(),
            link.ConnectedSince,
            Volatile.Read(ref c.TxPackets),
            Volatile.Read(ref c.TxBytes),
            Volatile.Read(ref c.RxPackets),
            Volatile.Read(ref c.RxBytes),
            DropsOf(c),
            Volatile.Read(ref c.Notifications),
            Volatile.Read(ref c.TxUnconsumedAtClose),
            Volatile.Read(ref c.RxDrainedAtClose),
            PeerViolations.Snapshot(c.Violations))
        {
            TxRingUsedBytes = ring.Transmit,
            RxRingUsedBytes = ring.Receive,
            RingSizeBytes = ring.Size,
        };
    }

    internal static SortedDictionary<string, long> DropsOf(PeerCounters c)
    {
        var drops = new SortedDictionary<string, long>
        {
            ["tx_ring_full"] = Volatile.Read(ref c.TxRingFull),
            ["tx_too_large"] = Volatile.Read(ref c.TxTooLarge),
            ["rx_bad_source"] = Volatile.Read(ref c.RxBadSource),
            ["rx_bad_destination"] = Volatile.Read(ref c.RxBadDestination),
            ["rx_tun_error"] = Volatile.Read(ref c.RxTunErrors),
        };
        AddReasons(drops, "rx_malformed_", c.RxMalformed);
        return drops;
    }

    internal static void AddReasons(IDictionary<string, long> drops, string prefix, long[] counts)
    {
        for (int i = 1; i < counts.Length; i++)
        {
            long n = Volatile.Read(ref counts[i]);
            if (n != 0)
            {
                drops[prefix + ((PacketDropReason)i).ToString().ToLowerInvariant()] = n;
            }
        }
    }
}

public sealed record TunStatus(long ReadPackets, long ReadBytes, IReadOnlyDictionary<string, long> Drops)
{
    internal static TunStatus From(TunCounters c)
    {
        var drops = new SortedDictionary<string, long>
        {
            ["no_peer"] = Volatile.Read(ref c.NoPeer),
            ["not_connected"] = Volatile.Read(ref c.NotConnected),
            ["read_error"] = Volatile.Read(ref c.ReadErrors),
        };
        PeerStatus.AddReasons(drops, "malformed_", c.Malformed);
        return new TunStatus(Volatile.Read(ref c.ReadPackets), Volatile.Read(ref c.ReadBytes), drops);
    }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(StatusSnapshot))]
public sealed partial class StatusJsonContext : JsonSerializerContext;
