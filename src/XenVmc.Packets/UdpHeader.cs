using System.Buffers.Binary;

namespace XenVmc.Packets;

/// <summary>A validated view of a UDP datagram (RFC 768), header through the end of the IP packet.</summary>
/// <remarks>
/// <code>
///  0      7 8     15 16    23 24    31
/// +--------+--------+--------+--------+
/// |     Source      |   Destination   |
/// |      Port       |      Port       |
/// +--------+--------+--------+--------+
/// |     Length      |    Checksum     |
/// +--------+--------+--------+--------+
/// </code>
/// The length field is not validated: in a first fragment it describes the whole datagram, and
/// the receiving kernel checks it against what arrives.
/// </remarks>
public readonly ref struct UdpHeader
{
    public const int HeaderLength = 8;
    public const int ChecksumFieldOffset = 6;

    private const int SourcePortOffset = 0;
    private const int DestinationPortOffset = 2;
    private const int LengthOffset = 4;

    private readonly ReadOnlySpan<byte> _datagram;

    private UdpHeader(ReadOnlySpan<byte> datagram) => _datagram = datagram;

    public static PacketDropReason TryCreate(ReadOnlySpan<byte> datagram, out UdpHeader header)
    {
        header = default;
        if (datagram.Length < HeaderLength)
        {
            return PacketDropReason.BadTransportHeader;
        }

        header = new UdpHeader(datagram);
        return PacketDropReason.None;
    }

    public ushort SourcePort => BinaryPrimitives.ReadUInt16BigEndian(_datagram[SourcePortOffset..]);

    public ushort DestinationPort => BinaryPrimitives.ReadUInt16BigEndian(_datagram[DestinationPortOffset..]);

    /// <summary>The length field as sent (header included); untrusted.</summary>
    public ushort Length => BinaryPrimitives.ReadUInt16BigEndian(_datagram[LengthOffset..]);

    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(_datagram[ChecksumFieldOffset..]);

    public ReadOnlySpan<byte> Payload => _datagram[HeaderLength..];

    public ReadOnlySpan<byte> Datagram => _datagram;
}
