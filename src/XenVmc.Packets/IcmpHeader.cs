using System.Buffers.Binary;

namespace XenVmc.Packets;

/// <summary>ICMPv4 message types (RFC 792) the daemon may want to name.</summary>
public enum Icmpv4Type : byte
{
    EchoReply = 0,
    DestinationUnreachable = 3,
    Redirect = 5,
    EchoRequest = 8,
    TimeExceeded = 11,
    ParameterProblem = 12,
}

/// <summary>ICMPv6 message types (RFC 4443, RFC 4861) the daemon may want to name.</summary>
public enum Icmpv6Type : byte
{
    DestinationUnreachable = 1,
    PacketTooBig = 2,
    TimeExceeded = 3,
    ParameterProblem = 4,
    EchoRequest = 128,
    EchoReply = 129,
    RouterSolicitation = 133,
    RouterAdvertisement = 134,
    NeighborSolicitation = 135,
    NeighborAdvertisement = 136,
    Redirect = 137,
}

/// <summary>
/// A validated view of an ICMPv4 (RFC 792) or ICMPv6 (RFC 4443) message; both share the layout
/// of the first 8 bytes, which is what Linux requires before it looks at either
/// (<c>sizeof(struct icmphdr)</c> = <c>sizeof(struct icmp6hdr)</c> = 8).
/// </summary>
/// <remarks>
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |     Type      |     Code      |          Checksum             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                    Rest of header (type-specific)             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// </remarks>
public readonly ref struct IcmpHeader
{
    public const int HeaderLength = 8;
    public const int ChecksumFieldOffset = 2;

    private const int TypeOffset = 0;
    private const int CodeOffset = 1;
    private const int RestOfHeaderOffset = 4;

    private readonly ReadOnlySpan<byte> _message;

    private IcmpHeader(ReadOnlySpan<byte> message) => _message = message;

    public static PacketDropReason TryCreate(ReadOnlySpan<byte> message, out IcmpHeader header)
    {
        header = default;
        if (message.Length < HeaderLength)
        {
            return PacketDropReason.BadTransportHeader;
        }

        header = new IcmpHeader(message);
        return PacketDropReason.None;
    }

    public byte Type => _message[TypeOffset];

    public Icmpv4Type V4Type => (Icmpv4Type)_message[TypeOffset];

    public Icmpv6Type V6Type => (Icmpv6Type)_message[TypeOffset];

    public byte Code => _message[CodeOffset];

    public ushort Checksum => BinaryPrimitives.ReadUInt16BigEndian(_message[ChecksumFieldOffset..]);

    /// <summary>Bytes 4..7: identifier and sequence for echo, MTU for packet-too-big, unused for errors.</summary>
    public uint RestOfHeader => BinaryPrimitives.ReadUInt32BigEndian(_message[RestOfHeaderOffset..]);

    public ReadOnlySpan<byte> Payload => _message[HeaderLength..];

    public ReadOnlySpan<byte> Message => _message;
}
