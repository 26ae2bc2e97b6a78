using System.Buffers.Binary;

namespace XenVmc.Packets;

/// <summary>A validated view of an IPv4 packet (RFC 791), header through total length.</summary>
/// <remarks>
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |Version|  IHL  |Type of Service|          Total Length         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |         Identification        |Flags|      Fragment Offset    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Time to Live |    Protocol   |         Header Checksum       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                       Source Address                          |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                    Destination Address                        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                    Options                    |    Padding    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// Flags: bit 0 reserved, bit 1 DF (don't fragment), bit 2 MF (more fragments).
/// Fragment Offset counts 8-byte units.
/// </code>
/// The header checksum is not part of validation: the receiving kernel checks it anyway, and a
/// peer gains nothing by getting it wrong. Use <see cref="IsHeaderChecksumValid"/> where it matters.
/// </remarks>
public readonly ref struct Ipv4Header
{
    public const int MinimumHeaderLength = 20;
    public const int MaximumHeaderLength = 60;

    private const int VersionIhlOffset = 0;
    private const int TypeOfServiceOffset = 1;
    private const int TotalLengthOffset = 2;
    private const int IdentificationOffset = 4;
    private const int FlagsFragmentOffset = 6;
    private const int TtlOffset = 8;
    private const int ProtocolOffset = 9;
    private const int ChecksumOffset = 10;
    private const int SourceAddressOffset = 12;
    private const int DestinationAddressOffset = 16;
    private const int AddressLength = 4;

    private const ushort DontFragmentFlag = 0x4000;
    private const ushort MoreFragmentsFlag = 0x2000;
    private const ushort FragmentOffsetMask = 0x1FFF;

    private readonly ReadOnlySpan<byte> _packet;

    private Ipv4Header(ReadOnlySpan<byte> packet) => _packet = packet;

    /// <summary>
    /// Validates <paramref name="packet"/> (IP header first; bytes after the total length are
    /// ignored) and on success returns a view limited to the total length.
    /// </summary>
    public static PacketDropReason TryCreate(ReadOnlySpan<byte> packet, out Ipv4Header header)
    {
        header = default;
        if (packet.Length < MinimumHeaderLength)
        {
            return PacketDropReason.Truncated;
        }

        if (packet[VersionIhlOffset] >> 4 != 4)
        {
            return PacketDropReason.BadVersion;
        }

        int headerLength = (packet[VersionIhlOffset] & 0xF) * 4;
        if (headerLength < MinimumHeaderLength)
        {
            return PacketDropReason.BadHeaderLength;
        }

        if (headerLength > packet.Length)
        {
            return PacketDropReason.Truncated;
        }

        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(packet[TotalLengthOffset..]);
        if (totalLength < headerLength)
        {
            return PacketDropReason.BadTotalLength;
        }

        if (totalLength > packet.Length)
        {
            return PacketDropReason.Truncated;
        }

        if (!Ipv4OptionEnumerator.AreWellFormed(packet[MinimumHeaderLength..headerLength]))
        {
            return PacketDropReason.BadHeaderLength;
        }

        header = new Ipv4Header(packet[..totalLength]);
        return PacketDropReason.None;
    }

    public int Version => _packet[VersionIhlOffset] >> 4;

    /// <summary>IHL in bytes (20..60).</summary>
    public int HeaderLength => (_packet[VersionIhlOffset] & 0xF) * 4;

    public byte TypeOfService => _packet[TypeOfServiceOffset];

    public int Dscp => _packet[TypeOfServiceOffset] >> 2;

    public int Ecn => _packet[TypeOfServiceOffset] & 0x3;

    public ushort TotalLength => BinaryPrimitives.ReadUInt16BigEndian(_packet[TotalLengthOffset..]);

    public ushort Identification => BinaryPrimitives.ReadUInt16BigEndian(_packet[IdentificationOffset..]);

    public bool DontFragment => (FlagsAndFragmentOffset & DontFragmentFlag) != 0;

    public bool MoreFragments => (FlagsAndFragmentOffset & MoreFragmentsFlag) != 0;

    /// <summary>Fragment offset in bytes.</summary>
    public int FragmentOffset => (FlagsAndFragmentOffset & FragmentOffsetMask) * 8;

    /// <summary>True for any fragment: MF set or a non-zero offset.</summary>
    public bool IsFragment => (FlagsAndFragmentOffset & (MoreFragmentsFlag | FragmentOffsetMask)) != 0;

    /// <summary>True for the fragment at offset 0, the only one that carries the transport header.</summary>
    public bool IsFirstFragment => (FlagsAndFragmentOffset & (MoreFragmentsFlag | FragmentOffsetMask)) == MoreFragmentsFlag;

    public byte TimeToLive => _packet[TtlOffset];

    public byte Protocol => _packet[ProtocolOffset];

    public ushort HeaderChecksum => BinaryPrimitives.ReadUInt16BigEndian(_packet[ChecksumOffset..]);

    public ReadOnlySpan<byte> SourceAddress => _packet.Slice(SourceAddressOffset, AddressLength);

    public ReadOnlySpan<byte> DestinationAddress => _packet.Slice(DestinationAddressOffset, AddressLength);

    public ReadOnlySpan<byte> Header => _packet[..HeaderLength];

    public ReadOnlySpan<byte> Options => _packet[MinimumHeaderLength..HeaderLength];

    public Ipv4OptionEnumerator EnumerateOptions() => new(Options);

    /// <summary>Everything after the header, up to the total length.</summary>
    public ReadOnlySpan<byte> Payload => _packet[HeaderLength..];

    /// <summary>The whole packet, up to the total length.</summary>
    public ReadOnlySpan<byte> Packet => _packet;

    public bool IsHeaderChecksumValid() => Checksum.Verify(Header);

    /// <summary>The header checksum for <paramref name="header"/>, ignoring what its checksum field holds.</summary>
    public static ushort ComputeHeaderChecksum(ReadOnlySpan<byte> header)
    {
        if (header.Length < MinimumHeaderLength)
        {
            throw new ArgumentException("An IPv4 header is at least 20 bytes.", nameof(header));
        }

        return Checksum.Compute(header[(ChecksumOffset + 2)..], Checksum.Sum(header[..ChecksumOffset]));
    }

    private ushort FlagsAndFragmentOffset => BinaryPrimitives.ReadUInt16BigEndian(_packet[FlagsFragmentOffset..]);
}
