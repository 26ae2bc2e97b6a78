namespace XenVmc.Packets;

/// <summary>
/// The data path's single entry point for deciding whether a packet is well formed enough to
/// hand to the peer's kernel, and for pulling out the addresses it is routed and filtered on.
/// </summary>
/// <remarks>
/// The packet may come from shared memory written by an untrusted peer. Parse a private copy of
/// the headers (everything up to <see cref="PacketInfo.TransportOffset"/> plus the transport
/// header), not the shared bytes, or the peer can change them between check and use.
/// </remarks>
public static partial class PacketParser
{
    /// <summary>
    /// The longest transport header the parser checks (TCP's with options; UDP and ICMP headers
    /// are 8 bytes). <see cref="TryParse"/> reads no byte past
    /// <see cref="PacketInfo.TransportOffset"/> + this, so a private copy that long is all it needs.
    /// </summary>
    public const int MaxTransportHeaderLength = TcpHeader.MaximumHeaderLength;

    /// <summary>
    /// Validates an IP packet; <paramref name="ipPacket"/> starts at the IP header (after any
    /// virtio-net header) and may have bytes after the length the header states.
    /// </summary>
    /// <returns><see cref="PacketDropReason.None"/> and a filled <paramref name="info"/>, or why the packet is refused.</returns>
    public static PacketDropReason TryParse(ReadOnlySpan<byte> ipPacket, out PacketInfo info)
    {
        info = default;
        if (ipPacket.IsEmpty)
        {
            return PacketDropReason.Truncated;
        }

        return (ipPacket[0] >> 4) switch
        {
            4 => ParseIpv4(ipPacket, out info),
            6 => ParseIpv6(ipPacket, out info),
            _ => PacketDropReason.BadVersion,
        };
    }

    private static PacketDropReason ParseIpv4(ReadOnlySpan<byte> packet, out PacketInfo info)
    {
        info = default;
        PacketDropReason reason = Ipv4Header.TryCreate(packet, out Ipv4Header ip);
        if (reason != PacketDropReason.None)
        {
            return reason;
        }

        int transportOffset = ip.HeaderLength;
        bool isFragment = ip.IsFragment;
        bool isFirstFragment = ip.IsFirstFragment;
        if (!isFragment || isFirstFragment)
        {
            reason = CheckTransportHeader(ip.Protocol, IpProtocol.Icmp, ip.Payload);
            if (reason != PacketDropReason.None)
            {
                return reason;
            }
        }

        info = new PacketInfo(
            4,
            IpKey.FromIPv4(ip.SourceAddress),
            IpKey.FromIPv4(ip.DestinationAddress),
            ip.Protocol,
            transportOffset,
            ip.TotalLength,
            isFragment,
            isFirstFragment);
        return PacketDropReason.None;
    }

    private static PacketDropReason ParseIpv6(ReadOnlySpan<byte> packet, out PacketInfo info)
    {
        info = default;
        PacketDropReason reason = Ipv6Header.TryCreate(packet, out Ipv6Header ip);
        if (reason != PacketDropReason.None)
        {
            return reason;
        }

        bool isFragment = ip.IsFragment;
        bool isFirstFragment = ip.IsFirstFragment;
        if (!isFragment || isFirstFragment)
        {
            reason = CheckTransportHeader(ip.UpperLayerProtocol, IpProtocol.IcmpV6, ip.UpperLayerPayload);
            if (reason != PacketDropReason.None)
            {
                return reason;
            }
        }

        info = new PacketInfo(
            6,
            IpKey.FromIPv6(ip.SourceAddress),
            IpKey.FromIPv6(ip.DestinationAddress),
            ip.UpperLayerProtocol,
            ip.UpperLayerOffset,
            ip.Length,
            isFragment,
            isFirstFragment);
        return PacketDropReason.None;
    }

    private static PacketDropReason CheckTransportHeader(byte protocol, byte icmpProtocol, ReadOnlySpan<byte> segment)
    {
        if (protocol == IpProtocol.Tcp)
        {
            return TcpHeader.TryCreate(segment, out _);
        }

        if (protocol == IpProtocol.Udp)
        {
            return UdpHeader.TryCreate(segment, out _);
        }

        if (protocol == icmpProtocol)
        {
            return IcmpHeader.TryCreate(segment, out _);
        }

        return PacketDropReason.None;
    }
}
