namespace XenVmc.Packets;

public static partial class PacketParser
{
    private const VirtioNetHeaderFlags AcceptedVnetFlags = VirtioNetHeaderFlags.NeedsChecksum | VirtioNetHeaderFlags.DataValid;

    /// <summary>
    /// Validates a virtio-net header that an untrusted peer put in front of a packet already
    /// accepted by <see cref="TryParse"/>, so that the local kernel's TUN write neither rejects it
    /// nor is asked to segment or checksum something other than what the packet is.
    /// </summary>
    /// <remarks>
    /// Rules (kernel <c>virtio_net_hdr_to_skb</c> and <c>tun_get_user</c>, made strict):
    /// flags only NEEDS_CSUM or DATA_VALID, not both; gso_type NONE, TCPV4 (IPv4 + TCP),
    /// TCPV6 (IPv6 + TCP) or UDP_L4 (UDP, with NEEDS_CSUM), ECN only on TCP; gso_size &gt; 0 exactly
    /// when GSO; no GSO and no NEEDS_CSUM on a fragment; NEEDS_CSUM only for TCP or UDP with
    /// csum_start == <see cref="PacketInfo.TransportOffset"/>, csum_offset 16 (TCP) or 6 (UDP),
    /// and the checksum field inside the packet; hdr_len within the packet.
    /// </remarks>
    /// <param name="vnet">A private copy of at least <see cref="VirtioNetHeader.Size"/> bytes.</param>
    /// <param name="info">The result of a successful <see cref="TryParse"/> of the packet that follows.</param>
    public static PacketDropReason ValidateVnet(ReadOnlySpan<byte> vnet, in PacketInfo info)
    {
        if (VirtioNetHeader.TryCreate(vnet, out VirtioNetHeader header) != PacketDropReason.None || info.Version == 0)
        {
            return PacketDropReason.BadVnetHeader;
        }

        VirtioNetHeaderFlags flags = header.Flags;
        VirtioNetGsoType gso = header.GsoKind;
        bool ecn = header.HasEcn;
        int gsoSize = header.GsoSize;
        int headerLength = header.HeaderLength;
        int checksumStart = header.ChecksumStart;
        int checksumOffset = header.ChecksumOffset;
        bool needsChecksum = (flags & VirtioNetHeaderFlags.NeedsChecksum) != 0;

        if ((flags & ~AcceptedVnetFlags) != 0 || flags == AcceptedVnetFlags || headerLength > info.Length)
        {
            return PacketDropReason.BadVnetHeader;
        }

        bool gsoAllowed = gso switch
        {
            VirtioNetGsoType.None => !ecn && gsoSize == 0,
            VirtioNetGsoType.TcpV4 => info.Version == 4 && info.Protocol == IpProtocol.Tcp,
            VirtioNetGsoType.TcpV6 => info.Version == 6 && info.Protocol == IpProtocol.Tcp,
            VirtioNetGsoType.UdpL4 => !ecn && needsChecksum && info.Protocol == IpProtocol.Udp,
            _ => false,
        };
        if (!gsoAllowed || (gso != VirtioNetGsoType.None && (gsoSize == 0 || info.IsFragment)))
        {
            return PacketDropReason.BadVnetHeader;
        }

        if (needsChecksum)
        {
            int expectedOffset = info.Protocol switch
            {
                IpProtocol.Tcp => TcpHeader.ChecksumFieldOffset,
                IpProtocol.Udp => UdpHeader.ChecksumFieldOffset,
                _ => -1,
            };
            if (info.IsFragment
                || checksumOffset != expectedOffset
                || checksumStart != info.TransportOffset
                || checksumStart + checksumOffset + sizeof(ushort) > info.Length)
            {
                return PacketDropReason.BadVnetHeader;
            }
        }

        return PacketDropReason.None;
    }
}
