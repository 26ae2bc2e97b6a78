using System.Buffers.Binary;

namespace XenVmc.Packets;

/// <summary>TCP control bits (RFC 9293 §3.1).</summary>
[Flags]
public enum TcpFlags : byte
{
    None = 0,
    Fin = 0x01,
    Syn = 0x02,
    Rst = 0x04,
    Psh = 0x08,
    Ack = 0x10,
    Urg = 0x20,
    Ece = 0x40,
    Cwr = 0x80,
}

/// <summary>A validated view of a TCP segment (RFC 9293 §3.1), header through the end of the IP packet.</summary>
/// <remarks>
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |          Source Port          |       Destination Port        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                        Sequence Number                        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                    Acknowledgment Number                      |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Data |       |C|E|U|A|P|R|S|F|                               |
/// | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
/// |       |       |R|E|G|K|H|T|N|N|                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |           Checksum            |         Urgent Pointer        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                    Options (data offset * 4 - 20 bytes)       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// Validation bounds the options by the data offset and the segment; their contents are not
/// interpreted (the receiving kernel parses them defensively).
/// </remarks>
public readonly ref struct TcpHeader
{
    public const int MinimumHeaderLength = 20;

    /// <summary>The 4-bit data offset counts 32-bit words: options included, at most 60 bytes.</summary>
    public const int MaximumHeaderLength = 15 * 4;
    public const int ChecksumFieldOffset = 16;

    private const int SourcePortOffset = 0;
    private const int DestinationPortOffset = 2;
    private const int SequenceNumberOffset = 4;
    private const int AcknowledgmentNumberOffset = 8;
    private const int DataOffsetOffset = 12;
    private const int FlagsOffset = 13;
    private const int WindowOffset = 14;
    private const int UrgentPointerOffset = 18;

    private readonly ReadOnlySpan<byte> _segment;

    private TcpHeader(ReadOnlySpan<byte> segment) => _segment = segment;

    /// <summary>Validates the header at the start of <paramref name="segment"/> (which runs to the end of the IP packet).</summary>
    public static PacketDropReason TryCreate(ReadOnlySpan<byte> segment, out TcpHeader header)
    {
        header = default;
        if (segment.Length < MinimumHeaderLength)
        {
            return PacketDropReason.BadTransportHeader;
        }

        int headerLength = (segment[DataOffsetOffset] >> 4) * 4;
        if (headerLength < MinimumHeaderLength || headerLength > segment.Length)
        {
            return PacketDropReason.BadTransportHeader;
        }

        header = new TcpHeader(segment);
        return PacketDropReason.None;
    }

    public ushort SourcePort => BinaryPrimitives.ReadUInt16BigEndian(_segment[SourcePortOffset..]);

    public ushort DestinationPort => BinaryPrimitives.ReadUInt16BigEndian(_segment[DestinationPortOffset..]);

    public uint SequenceNumber => BinaryPrimitives.ReadUInt32BigEndian(_segment[SequenceNumberOffset..]);

    public uint AcknowledgmentNumber => BinaryPrimitives.ReadUInt32BigEndian(_segment[AcknowledgmentNumberOffset..]);

    /// <summary>Header length in bytes (data offset * 4).</summary>
    public int HeaderLength => (_segment[DataOffsetOffset] >> 4) * 4;

    public TcpFlags Flags => (TcpFlags)_segment[FlagsOffset];

    public ushort WindowSize => BinaryPrimitives.ReadUInt16BigEndian(_segment[WindowOffset..]);

    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(_segment[ChecksumFieldOffset..]);

    public ushort UrgentPointer => BinaryPrimitives.ReadUInt16BigEndian(_segment[UrgentPointerOffset..]);

    public ReadOnlySpan<byte> Options => _segment[MinimumHeaderLength..HeaderLength];

    public ReadOnlySpan<byte> Payload => _segment[HeaderLength..];

    /// <summary>The whole segment, header included.</summary>
    public ReadOnlySpan<byte> Segment => _segment;
}
