using XenVmc.Packets;

namespace XenVmc.Packets.Tests;

/// <summary>A valid packet and what the parser must say about it.</summary>
/// <param name="TransportHeaderLength">Bytes of transport header the parser requires (0 when none is checked).</param>
internal sealed record CorpusPacket(
    string Name,
    byte[] Bytes,
    int Version,
    byte Protocol,
    int TransportOffset,
    int TransportHeaderLength,
    bool IsFragment,
    bool IsFirstFragment)
{
    public override string ToString() => Name;
}

/// <summary>Valid packets of every shape the parser distinguishes.</summary>
internal static class PacketCorpus
{
    public static IReadOnlyList<CorpusPacket> All { get; } = Build();

    private static List<CorpusPacket> Build()
    {
        byte[] tcpOptions = new byte[40];
        tcpOptions[0] = 2;
        tcpOptions[1] = 4;
        tcpOptions[2] = 0x05;
        tcpOptions[3] = 0xb4; // MSS, then end-of-list

        byte[] ipOptions = new byte[40];
        ipOptions[0] = 1;
        ipOptions[1] = 0x94;
        ipOptions[2] = 4; // NOP, router alert, then end-of-list

        Ipv6Extension[] allKinds =
        [
            Ipv6Extension.HopByHop(16), Ipv6Extension.DestinationOptions(), Ipv6Extension.Routing(1),
            Ipv6Extension.AuthenticationHeader(), Ipv6Extension.DestinationOptions(8),
        ];

        return
        [
            new("golden v4 tcp syn", GoldenPackets.Bytes(GoldenPackets.V4TcpSyn), 4, IpProtocol.Tcp, 20, 28, false, false),
            new("golden v4 udp options", GoldenPackets.Bytes(GoldenPackets.V4UdpWithOptions), 4, IpProtocol.Udp, 28, 8, false, false),
            new("golden v4 icmp", GoldenPackets.Bytes(GoldenPackets.V4IcmpEcho), 4, IpProtocol.Icmp, 20, 8, false, false),
            new("golden v6 tcp", GoldenPackets.Bytes(GoldenPackets.V6TcpAckPsh), 6, IpProtocol.Tcp, 40, 20, false, false),
            new("golden v6 udp ext", GoldenPackets.Bytes(GoldenPackets.V6UdpHopByHopDestOpts), 6, IpProtocol.Udp, 64, 8, false, false),
            new("golden v6 icmp", GoldenPackets.Bytes(GoldenPackets.V6IcmpEcho), 6, IpProtocol.IcmpV6, 40, 8, false, false),
            new(
                "v4 60-byte header, 60-byte tcp header",
                PacketBuilder.Ipv4(IpProtocol.Tcp, PacketBuilder.Tcp(options: tcpOptions, payload: new byte[33]), new Ipv4Spec { Options = ipOptions }),
                4, IpProtocol.Tcp, 60, 60, false, false),
            new(
                "v4 first fragment",
                PacketBuilder.Ipv4(IpProtocol.Udp, PacketBuilder.Udp(payload: new byte[24]), new Ipv4Spec { MoreFragments = true, DontFragment = false }),
                4, IpProtocol.Udp, 20, 8, true, true),
            new(
                "v4 later fragment",
                PacketBuilder.Ipv4(IpProtocol.Tcp, new byte[5], new Ipv4Spec { FragmentOffset = 1480, DontFragment = false }),
                4, IpProtocol.Tcp, 20, 0, true, false),
            new(
                "v4 last fragment, empty",
                PacketBuilder.Ipv4(IpProtocol.Udp, [], new Ipv4Spec { FragmentOffset = 8, DontFragment = false }),
                4, IpProtocol.Udp, 20, 0, true, false),
            new("v4 gre", PacketBuilder.Ipv4(47, new byte[3]), 4, 47, 20, 0, false, false),
            new("v4 carrying icmpv6 number", PacketBuilder.Ipv4(IpProtocol.IcmpV6, new byte[2]), 4, IpProtocol.IcmpV6, 20, 0, false, false),
            new(
                "v6 all extension kinds, tcp",
                PacketBuilder.Ipv6(IpProtocol.Tcp, PacketBuilder.Tcp(options: [1, 1, 1, 1], payload: new byte[10]), new Ipv6Spec { Extensions = allKinds }),
                6, IpProtocol.Tcp, 40 + 16 + 8 + 24 + 24 + 8, 24, false, false),
            new(
                "v6 first fragment, udp",
                PacketBuilder.Ipv6(IpProtocol.Udp, PacketBuilder.Udp(payload: new byte[7]), new Ipv6Spec { Extensions = [Ipv6Extension.Fragment(0, true), Ipv6Extension.DestinationOptions()] }),
                6, IpProtocol.Udp, 56, 8, true, true),
            new(
                "v6 later fragment",
                PacketBuilder.Ipv6(IpProtocol.Tcp, new byte[11], new Ipv6Spec { Extensions = [Ipv6Extension.HopByHop(), Ipv6Extension.Fragment(2048, true)] }),
                6, IpProtocol.Tcp, 56, 0, true, false),
            new(
                "v6 atomic fragment, icmpv6",
                PacketBuilder.Ipv6(IpProtocol.IcmpV6, PacketBuilder.Icmp(129), new Ipv6Spec { Extensions = [Ipv6Extension.Fragment(0, false)] }),
                6, IpProtocol.IcmpV6, 48, 8, false, false),
            new("v6 esp", PacketBuilder.Ipv6(IpProtocol.Esp, new byte[24], new Ipv6Spec { Extensions = [Ipv6Extension.HopByHop()] }), 6, IpProtocol.Esp, 48, 0, false, false),
            new("v6 no next header", PacketBuilder.Ipv6(IpProtocol.Ipv6NoNextHeader, []), 6, IpProtocol.Ipv6NoNextHeader, 40, 0, false, false),
            new("v6 carrying icmpv4 number", PacketBuilder.Ipv6(IpProtocol.Icmp, new byte[3]), 6, IpProtocol.Icmp, 40, 0, false, false),
            new(
                "v6 ah, udp",
                PacketBuilder.Ipv6(IpProtocol.Udp, PacketBuilder.Udp(), new Ipv6Spec { Extensions = [Ipv6Extension.AuthenticationHeader()] }),
                6, IpProtocol.Udp, 64, 8, false, false),
        ];
    }
}
