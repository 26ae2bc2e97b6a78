namespace XenVmc.Packets;

/// <summary>Why the data path refused a packet. <see cref="None"/> means the packet is acceptable.</summary>
public enum PacketDropReason : byte
{
    None,

    /// <summary>The span is shorter than a length field in the packet says it is.</summary>
    Truncated,

    /// <summary>The IP version nibble is neither 4 nor 6.</summary>
    BadVersion,

    /// <summary>IPv4 IHL below 5, or malformed IPv4 options.</summary>
    BadHeaderLength,

    /// <summary>IPv4 total length smaller than the header.</summary>
    BadTotalLength,

    /// <summary>IPv6 extension headers: too many, outside the packet, hop-by-hop not first, or two fragment headers.</summary>
    BadExtensionChain,

    /// <summary>A TCP, UDP or ICMP header that should be present does not fit in the packet.</summary>
    BadTransportHeader,

    /// <summary>A virtio-net header that the peer's kernel would reject or that does not match the packet.</summary>
    BadVnetHeader,

    /// <summary>An IPv6 jumbogram (payload length 0 with a hop-by-hop header); not supported.</summary>
    TooLarge,
}
