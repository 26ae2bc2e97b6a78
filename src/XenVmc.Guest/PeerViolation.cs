using XenVmc.Rings;

namespace XenVmc.Guest;

/// <summary>
/// Why a peer was disconnected as hostile or broken: it put into shared memory something our
/// own daemon never writes. Counted per link and per daemon (<c>violations</c> in the status).
/// </summary>
internal enum PeerViolation : byte
{
    None,

    /// <summary>The producer index of our receive ring is misaligned, too far ahead, or went back.</summary>
    RxProducerIndex,

    /// <summary>A record header in our receive ring: unknown kind, impossible length, bad padding.</summary>
    RxRecord,

    /// <summary>The consumer index of our transmit ring is impossible.</summary>
    TxConsumerIndex,

    /// <summary>A record whose IP headers do not parse: our sender drops those before the ring, so only a broken or hostile peer writes one.</summary>
    MalformedPacket,

    /// <summary>A packet whose source address is not one of the peer's (Dom0's knowledge, not the peer's claim).</summary>
    SpoofedSource,
}

internal static class PeerViolations
{
    public static readonly int Count = Enum.GetValues<PeerViolation>().Length;

    public static PeerViolation FromRingFault(RingFault fault) =>
        fault == RingFault.ProducerIndex ? PeerViolation.RxProducerIndex : PeerViolation.RxRecord;

    /// <summary>The status key: <c>rx_producer_index</c>, <c>spoofed_source</c>, …</summary>
    public static string Key(PeerViolation violation) => violation switch
    {
        PeerViolation.RxProducerIndex => "rx_producer_index",
        PeerViolation.RxRecord => "rx_record",
        PeerViolation.TxConsumerIndex => "tx_consumer_index",
        PeerViolation.MalformedPacket => "malformed_packet",
        PeerViolation.SpoofedSource => "spoofed_source",
        _ => "none",
    };

    public static SortedDictionary<string, long> Snapshot(long[] counts)
    {
        var result = new SortedDictionary<string, long>();
        for (int i = 1; i < counts.Length; i++)
        {
            result[Key((PeerViolation)i)] = Volatile.Read(ref counts[i]);
        }

        return result;
    }
}
