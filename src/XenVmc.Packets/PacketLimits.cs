namespace XenVmc.Packets;

/// <summary>The sizes every buffer and ring record that carries one packet is built from.</summary>
public static class PacketLimits
{
    /// <summary>
    /// The largest IP packet: IPv4's total length and IPv6's payload length are 16-bit fields
    /// (jumbograms are not used); a TSO/USO super-packet is bounded by it too.
    /// </summary>
    public const int MaxIpPacketLength = 65535;

    /// <summary>
    /// The largest frame: a <see cref="VirtioNetHeader"/> followed by the largest IP packet, as a
    /// TUN with IFF_VNET_HDR hands it over and as one ring record carries it.
    /// </summary>
    public const int MaxFrameLength = VirtioNetHeader.Size + MaxIpPacketLength;
}
