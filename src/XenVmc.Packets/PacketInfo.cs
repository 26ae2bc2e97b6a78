namespace XenVmc.Packets;

/// <summary>What the data path needs to know about one validated IP packet; a value copied out of the packet.</summary>
public readonly struct PacketInfo
{
    internal PacketInfo(int version, IpKey source, IpKey destination, byte protocol, int transportOffset, int length, bool isFragment, bool isFirstFragment)
    {
        Version = version;
        Source = source;
        Destination = destination;
        Protocol = protocol;
        TransportOffset = transportOffset;
        Length = length;
        IsFragment = isFragment;
        IsFirstFragment = isFirstFragment;
    }

    /// <summary>4 or 6 (0 for a default value).</summary>
    public int Version { get; }

    public IpKey Source { get; }

    public IpKey Destination { get; }

    /// <summary>The upper-layer protocol: the IPv4 protocol field, or the end of the IPv6 extension chain.</summary>
    public byte Protocol { get; }

    /// <summary>Offset of the upper-layer header from the start of the IP header (for a later fragment: of its data).</summary>
    public int TransportOffset { get; }

    /// <summary>The packet length the IP header states (IPv4 total length, IPv6 40 + payload length); never more than the span parsed.</summary>
    public int Length { get; }

    /// <summary>True for every fragment of a fragmented datagram (not for an IPv6 atomic fragment).</summary>
    public bool IsFragment { get; }

    /// <summary>True for the fragment at offset 0, the only one with a transport header.</summary>
    public bool IsFirstFragment { get; }
}
