using XenVmc.Packets;
using Xunit;

namespace XenVmc.Packets.Tests;

public class PacketBuilderTests
{
    [Fact]
    public void Ipv4TcpSynMatchesGolden()
    {
        byte[] packet = PacketBuilder.Ipv4(
            IpProtocol.Tcp,
            PacketBuilder.Tcp(40000, 80, 0x01020304, 0, TcpFlags.Syn, 64240, options: [2, 4, 5, 0xb4, 1, 1, 4, 2]));
        Assert.Equal(GoldenPackets.V4TcpSyn, Convert.ToHexStringLower(packet));
    }

    [Fact]
    public void Ipv4UdpWithOptionsMatchesGolden()
    {
        byte[] packet = PacketBuilder.Ipv4(
            IpProtocol.Udp,
            PacketBuilder.Udp(5353, 53, "hello"u8.ToArray()),
            new Ipv4Spec { Identification = 0xbeef, DontFragment = false, TimeToLive = 1, Options = [1, 1, 0x94, 4, 0, 0] });
        Assert.Equal(GoldenPackets.V4UdpWithOptions, Convert.ToHexStringLower(packet));
    }

    [Fact]
    public void Ipv4IcmpEchoMatchesGolden()
    {
        byte[] packet = PacketBuilder.Ipv4(
            IpProtocol.Icmp,
            PacketBuilder.Icmp(8, 0, 0x42420001, "abcdefgh"u8.ToArray()),
            new Ipv4Spec { Identification = 7 });
        Assert.Equal(GoldenPackets.V4IcmpEcho, Convert.ToHexStringLower(packet));
    }

    [Fact]
    public void Ipv6TcpMatchesGolden()
    {
        byte[] packet = PacketBuilder.Ipv6(
            IpProtocol.Tcp,
            PacketBuilder.Tcp(443, 50000, 0xfffffff0, 0x10, TcpFlags.Ack | TcpFlags.Psh, 512, payload: "xenvmc"u8.ToArray()),
            new Ipv6Spec { TrafficClass = 0x2e, FlowLabel = 0x12345 });
        Assert.Equal(GoldenPackets.V6TcpAckPsh, Convert.ToHexStringLower(packet));
    }

    [Fact]
    public void Ipv6UdpWithExtensionsMatchesGolden()
    {
        byte[] packet = PacketBuilder.Ipv6(
            IpProtocol.Udp,
            PacketBuilder.Udp(1000, 2000, "ext"u8.ToArray()),
            new Ipv6Spec { Extensions = [Ipv6Extension.HopByHop(8), Ipv6Extension.DestinationOptions(16)] });
        Assert.Equal(GoldenPackets.V6UdpHopByHopDestOpts, Convert.ToHexStringLower(packet));
    }

    [Fact]
    public void Ipv6IcmpEchoMatchesGolden()
    {
        byte[] packet = PacketBuilder.Ipv6(IpProtocol.IcmpV6, PacketBuilder.Icmp(128, 0, 0x00010002, "ping"u8.ToArray()));
        Assert.Equal(GoldenPackets.V6IcmpEcho, Convert.ToHexStringLower(packet));
    }

    [Fact]
    public void RandomPacketsCarryVerifiableChecksums()
    {
        var random = new Random(1234);
        for (int i = 0; i < 2000; i++)
        {
            byte[] payload = new byte[random.Next(0, 1500)];
            random.NextBytes(payload);
            bool v6 = random.Next(2) == 0;
            int kind = random.Next(3);
            byte protocol = kind switch { 0 => IpProtocol.Tcp, 1 => IpProtocol.Udp, _ => v6 ? IpProtocol.IcmpV6 : IpProtocol.Icmp };
            byte[] l4 = kind switch
            {
                0 => PacketBuilder.Tcp(payload: payload, options: new byte[random.Next(0, 11) * 4]),
                1 => PacketBuilder.Udp(payload: payload),
                _ => PacketBuilder.Icmp(8, payload: payload),
            };
            byte[] packet = v6
                ? PacketBuilder.Ipv6(protocol, l4, new Ipv6Spec { Extensions = random.Next(2) == 0 ? [] : [Ipv6Extension.HopByHop(), Ipv6Extension.Routing()] })
                : PacketBuilder.Ipv4(protocol, l4, new Ipv4Spec { Options = new byte[random.Next(0, 11) * 4] });

            Assert.Equal(PacketDropReason.None, PacketParser.TryParse(packet, out PacketInfo info));
            ReadOnlySpan<byte> transport = packet.AsSpan(info.TransportOffset, info.Length - info.TransportOffset);
            ushort pseudo;
            if (v6)
            {
                Assert.Equal(PacketDropReason.None, Ipv6Header.TryCreate(packet, out Ipv6Header ip6));
                pseudo = protocol == IpProtocol.Icmp ? (ushort)0 : Checksum.PseudoHeaderSumV6(ip6.SourceAddress, ip6.DestinationAddress, protocol, (uint)transport.Length);
            }
            else
            {
                Assert.Equal(PacketDropReason.None, Ipv4Header.TryCreate(packet, out Ipv4Header ip4));
                Assert.True(ip4.IsHeaderChecksumValid());
                pseudo = protocol == IpProtocol.Icmp ? (ushort)0 : Checksum.PseudoHeaderSumV4(ip4.SourceAddress, ip4.DestinationAddress, protocol, (ushort)transport.Length);
            }

            Assert.True(Checksum.Verify(transport, pseudo), $"packet {i}: transport checksum");
        }
    }
}
