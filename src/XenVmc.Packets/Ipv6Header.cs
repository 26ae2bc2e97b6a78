using System.Buffers.Binary;

namespace XenVmc.Packets;

/// <summary>
/// A validated view of an IPv6 packet (RFC 8200), fixed header through payload length, with the
/// extension-header chain already walked to the upper-layer header.
/// </summary>
/// <remarks>
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |Version| Traffic Class |           Flow Label                  |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |         Payload Length        |  Next Header  |   Hop Limit   |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                   Source Address (16 bytes)                   |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                 Destination Address (16 bytes)                |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///
/// Hop-by-hop (0), routing (43), destination options (60): (Hdr Ext Len + 1) * 8 bytes
/// |  Next Header  |  Hdr Ext Len  |  ...
/// Fragment (44): 8 bytes
/// |  Next Header  |   Reserved    |      Fragment Offset    |Res|M|
/// |                         Identification                        |
/// Authentication header (51, RFC 4302 §2): (Payload Len + 2) * 4 bytes
/// |  Next Header  |  Payload Len  |  ...
/// </code>
/// The walk stops at the first next-header value that is not one of those five (TCP, UDP,
/// ICMPv6, ESP, no-next-header, anything else) or after a non-first fragment header, whose
/// following bytes are the middle of some other fragment's data. It is bounded by
/// <see cref="MaximumExtensionHeaders"/> and by the payload length.
/// </remarks>
public readonly ref struct Ipv6Header
{
    public const int FixedHeaderLength = 40;
    public const int MaximumExtensionHeaders = 8;

    private const int VersionClassFlowOffset = 0;
    private const int PayloadLengthOffset = 4;
    private const int NextHeaderOffset = 6;
    private const int HopLimitOffset = 7;
    private const int SourceAddressOffset = 8;
    private const int DestinationAddressOffset = 24;
    private const int AddressLength = 16;

    private const int ExtensionNextHeaderOffset = 0;
    private const int ExtensionLengthOffset = 1;
    private const int FragmentHeaderLength = 8;
    private const int FragmentOffsetFieldOffset = 2;
    private const int FragmentIdentificationOffset = 4;
    private const ushort FragmentOffsetMask = 0xFFF8;
    private const ushort MoreFragmentsFlag = 0x0001;

    private readonly ReadOnlySpan<byte> _packet;
    private readonly int _upperLayerOffset;
    private readonly int _fragmentHeaderOffset;
    private readonly byte _upperLayerProtocol;
    private readonly byte _extensionHeaderCount;

    private Ipv6Header(ReadOnlySpan<byte> packet, byte upperLayerProtocol, int upperLayerOffset, int fragmentHeaderOffset, byte extensionHeaderCount)
    {
        _packet = packet;
        _upperLayerProtocol = upperLayerProtocol;
        _upperLayerOffset = upperLayerOffset;
        _fragmentHeaderOffset = fragmentHeaderOffset;
        _extensionHeaderCount = extensionHeaderCount;
    }

    /// <summary>
    /// Validates <paramref name="packet"/> (IP header first; bytes after 40 + payload length are
    /// ignored), walks the extension headers, and on success returns a view limited to the packet.
    /// </summary>
    public static PacketDropReason TryCreate(ReadOnlySpan<byte> packet, out Ipv6Header header)
    {
        header = default;
        if (packet.Length < FixedHeaderLength)
        {
            return PacketDropReason.Truncated;
        }

        if (packet[VersionClassFlowOffset] >> 4 != 6)
        {
            return PacketDropReason.BadVersion;
        }

        int payloadLength = BinaryPrimitives.ReadUInt16BigEndian(packet[PayloadLengthOffset..]);
        byte next = packet[NextHeaderOffset];
        if (payloadLength == 0 && next == IpProtocol.Ipv6HopByHop)
        {
            // A jumbogram (RFC 2675) carries its length in a hop-by-hop option; not supported.
            return PacketDropReason.TooLarge;
        }

        int length = FixedHeaderLength + payloadLength;
        if (length > packet.Length)
        {
            return PacketDropReason.Truncated;
        }

        packet = packet[..length];
        int offset = FixedHeaderLength;
        int fragmentHeaderOffset = 0;
        int count = 0;
        while (true)
        {
            int headerLength;
            switch (next)
            {
                case IpProtocol.Ipv6HopByHop:
                case IpProtocol.Ipv6Routing:
                case IpProtocol.Ipv6DestinationOptions:
                    if (next == IpProtocol.Ipv6HopByHop && offset != FixedHeaderLength)
                    {
                        return PacketDropReason.BadExtensionChain; // RFC 8200 §4.3: only right after the fixed header
                    }

                    if (length - offset < 2)
                    {
                        return PacketDropReason.BadExtensionChain;
                    }

                    headerLength = (packet[offset + ExtensionLengthOffset] + 1) * 8;
                    break;

                case IpProtocol.AuthenticationHeader:
                    if (length - offset < 2)
                    {
                        return PacketDropReason.BadExtensionChain;
                    }

                    headerLength = (packet[offset + ExtensionLengthOffset] + 2) * 4;
                    break;

                case IpProtocol.Ipv6Fragment:
                    if (fragmentHeaderOffset != 0)
                    {
                        return PacketDropReason.BadExtensionChain;
                    }

                    headerLength = FragmentHeaderLength;
                    fragmentHeaderOffset = offset;
                    break;

                default:
                    header = new Ipv6Header(packet, next, offset, fragmentHeaderOffset, (byte)count);
                    return PacketDropReason.None;
            }

            if (++count > MaximumExtensionHeaders || headerLength > length - offset)
            {
                return PacketDropReason.BadExtensionChain;
            }

            bool laterFragment = offset == fragmentHeaderOffset
                && (BinaryPrimitives.ReadUInt16BigEndian(packet[(offset + FragmentOffsetFieldOffset)..]) & FragmentOffsetMask) != 0;
            next = packet[offset + ExtensionNextHeaderOffset];
            offset += headerLength;
            if (laterFragment)
            {
                // A later fragment: what follows is the middle of the original payload.
                header = new Ipv6Header(packet, next, offset, fragmentHeaderOffset, (byte)count);
                return PacketDropReason.None;
            }
        }
    }

    public int Version => _packet[VersionClassFlowOffset] >> 4;

    public byte TrafficClass => (byte)(BinaryPrimitives.ReadUInt16BigEndian(_packet) >> 4);

    public uint FlowLabel => BinaryPrimitives.ReadUInt32BigEndian(_packet) & 0x000F_FFFF;

    public ushort PayloadLength => BinaryPrimitives.ReadUInt16BigEndian(_packet[PayloadLengthOffset..]);

    /// <summary>The next-header field of the fixed header.</summary>
    public byte NextHeader => _packet[NextHeaderOffset];

    public byte HopLimit => _packet[HopLimitOffset];

    public ReadOnlySpan<byte> SourceAddress => _packet.Slice(SourceAddressOffset, AddressLength);

    public ReadOnlySpan<byte> DestinationAddress => _packet.Slice(DestinationAddressOffset, AddressLength);

    /// <summary>40 + payload length.</summary>
    public int Length => _packet.Length;

    /// <summary>The whole packet, up to 40 + payload length.</summary>
    public ReadOnlySpan<byte> Packet => _packet;

    /// <summary>Everything after the fixed header.</summary>
    public ReadOnlySpan<byte> Payload => _packet[FixedHeaderLength..];

    /// <summary>Number of extension headers walked.</summary>
    public int ExtensionHeaderCount => _extensionHeaderCount;

    /// <summary>The next-header value that ended the walk: TCP, UDP, ICMPv6, ESP, 59, or anything else.</summary>
    public byte UpperLayerProtocol => _upperLayerProtocol;

    /// <summary>Offset of the upper-layer header (for a later fragment: of the fragment data).</summary>
    public int UpperLayerOffset => _upperLayerOffset;

    public ReadOnlySpan<byte> UpperLayerPayload => _packet[_upperLayerOffset..];

    public bool HasFragmentHeader => _fragmentHeaderOffset != 0;

    /// <summary>True when a fragment header says offset != 0 or M = 1 (an atomic fragment is not a fragment).</summary>
    public bool IsFragment => HasFragmentHeader && (FragmentField & (FragmentOffsetMask | MoreFragmentsFlag)) != 0;

    public bool IsFirstFragment => HasFragmentHeader && (FragmentField & (FragmentOffsetMask | MoreFragmentsFlag)) == MoreFragmentsFlag;

    /// <summary>Fragment offset in bytes (0 without a fragment header).</summary>
    public int FragmentOffset => HasFragmentHeader ? FragmentField & FragmentOffsetMask : 0;

    public bool MoreFragments => HasFragmentHeader && (FragmentField & MoreFragmentsFlag) != 0;

    public uint FragmentIdentification =>
        HasFragmentHeader ? BinaryPrimitives.ReadUInt32BigEndian(_packet[(_fragmentHeaderOffset + FragmentIdentificationOffset)..]) : 0;

    private ushort FragmentField => BinaryPrimitives.ReadUInt16BigEndian(_packet[(_fragmentHeaderOffset + FragmentOffsetFieldOffset)..]);
}
