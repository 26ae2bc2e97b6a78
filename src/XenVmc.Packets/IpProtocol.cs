namespace XenVmc.Packets;

/// <summary>
/// IANA "Assigned Internet Protocol Numbers" used by the parser: the IPv4 protocol field and the
/// IPv6 next-header values, including the IPv6 extension headers (RFC 8200 §4, RFC 4302).
/// </summary>
public static class IpProtocol
{
    public const byte Ipv6HopByHop = 0;
    public const byte Icmp = 1;
    public const byte Tcp = 6;
    public const byte Udp = 17;
    public const byte Ipv6Routing = 43;
    public const byte Ipv6Fragment = 44;
    public const byte Esp = 50;
    public const byte AuthenticationHeader = 51;
    public const byte IcmpV6 = 58;
    public const byte Ipv6NoNextHeader = 59;
    public const byte Ipv6DestinationOptions = 60;
}
