namespace XenVmc.Rings;

/// <summary>
/// The shared-memory layout of one channel, declared once: a 4096-byte control page and two
/// data rings, each in its own separately mapped window (the reader may map its ring read-only).
/// </summary>
/// <remarks>
/// <code>
/// Control page (all fields host byte order; both domains run on the same CPU)
///   offset  size  field                         written by
///      0      4   magic "XVMC"                  allocating side (Low), once
///      4      4   layout version (1)            Low, once
///      8      4   ring 0 size, log2             Low, once
///     12      4   ring 1 size, log2             Low, once
///    128      4   ring 0 prod                   ring 0 producer (Low)
///    132      4   ring 0 producerWaiting        set by producer, cleared by consumer
///    256      4   ring 0 cons                   ring 0 consumer (High)
///    260      4   ring 0 consumerSleeping       set by consumer, cleared by producer
///    384..519     ring 1, same shape            producer High, consumer Low
///    640      1   Low live  (0 gone, 1 connected, 2 not yet connected)
///    648      8   Low heartbeat
///    768      1   High live
///    776      8   High heartbeat
///
/// Ring 0 carries Low → High, ring 1 High → Low.
/// Data ring: 2^n bytes (12 ≤ n ≤ 24) of 8-byte-aligned records that never wrap:
///   +0  u32 payload length
///   +4  u32 kind: 1 packet, 2 padding to the end of the ring
///   +8  payload, then padding to a multiple of 8
/// prod and cons are free-running byte counts; position = index &amp; (size − 1).
/// </code>
/// Each index sits on its own line, and lines are 128 bytes apart rather than 64 because
/// x86's adjacent-line prefetcher pulls cache lines in pairs (the same reason .NET pads its
/// concurrent queues to 128): without it the producer's and consumer's stores would still
/// bounce one pair of lines between the two CPUs.
/// </remarks>
public static class ChannelLayout
{
    public const int ControlPageSize = 4096;

    /// <summary>Distance between lines written by different sides.</summary>
    public const int LineSize = 128;

    /// <summary>"XVMC" as it appears in memory on a little-endian host.</summary>
    public const uint Magic = 0x434D_5658;
    public const uint Version = 1;

    public const int MinimumRingSizeLog2 = 12;
    public const int MaximumRingSizeLog2 = 24;

    public const int MagicOffset = 0;
    public const int VersionOffset = 4;
    public const int Ring0SizeLog2Offset = 8;
    public const int Ring1SizeLog2Offset = 12;

    public const int RingCount = 2;

    /// <summary>Low → High.</summary>
    public const int Ring0 = 0;

    /// <summary>High → Low.</summary>
    public const int Ring1 = 1;

    private const int FirstRingOffset = LineSize;
    private const int RingStride = 2 * LineSize;
    private const int FirstLivenessOffset = FirstRingOffset + (RingCount * RingStride);

    /// <summary>Bytes of the control page the layout uses; the rest stays zero.</summary>
    public const int UsedLength = FirstLivenessOffset + (2 * LineSize);

    /// <summary>Pages one channel grants (the lower domid grants them all): the control page and both rings.</summary>
    public static int GrantedPages(int ringBytes) => 1 + (RingCount * (ringBytes / ControlPageSize));

    public const int RecordHeaderSize = 8;
    public const int RecordAlignment = 8;
    public const uint RecordKindPacket = 1;
    public const uint RecordKindPadding = 2;

    public static int ProducerIndexOffset(int ring) => RingOffset(ring);

    public static int ProducerWaitingOffset(int ring) => RingOffset(ring) + 4;

    public static int ConsumerIndexOffset(int ring) => RingOffset(ring) + LineSize;

    public static int ConsumerSleepingOffset(int ring) => RingOffset(ring) + LineSize + 4;

    public static int RingSizeLog2Offset(int ring) => CheckRing(ring) == Ring0 ? Ring0SizeLog2Offset : Ring1SizeLog2Offset;

    public static int LiveOffset(ChannelSide side) => FirstLivenessOffset + (CheckSide(side) * LineSize);

    public static int HeartbeatOffset(ChannelSide side) => LiveOffset(side) + 8;

    /// <summary>The ring <paramref name="side"/> produces into.</summary>
    public static int TransmitRing(ChannelSide side) => CheckSide(side) == 0 ? Ring0 : Ring1;

    /// <summary>The ring <paramref name="side"/> consumes from.</summary>
    public static int ReceiveRing(ChannelSide side) => CheckSide(side) == 0 ? Ring1 : Ring0;

    /// <summary>Bytes a record with <paramref name="payloadLength"/> bytes of payload occupies.</summary>
    public static int RecordSize(int payloadLength) =>
        RecordHeaderSize + ((payloadLength + RecordAlignment - 1) & ~(RecordAlignment - 1));

    /// <summary>The largest payload allowed in a ring of 2^<paramref name="ringSizeLog2"/> bytes: a quarter of it.</summary>
    public static int MaxPayloadLimit(int ringSizeLog2) => (1 << ringSizeLog2) / 4;

    private static int RingOffset(int ring) => FirstRingOffset + (CheckRing(ring) * RingStride);

    internal static int CheckRing(int ring) =>
        ring is Ring0 or Ring1 ? ring : throw new ArgumentOutOfRangeException(nameof(ring), ring, "A channel has rings 0 and 1.");

    private static int CheckSide(ChannelSide side) =>
        side is ChannelSide.Low or ChannelSide.High ? (int)side : throw new ArgumentOutOfRangeException(nameof(side), side, null);
}
