using System.Buffers.Binary;
using XenVmc.Packets;
using Xunit;

namespace XenVmc.Packets.Tests;

public class Ipv6HeaderTests
{
    [Fact]
    public void GoldenTcpFields()
    {
        byte[] packet = GoldenPackets.Bytes(GoldenPackets.V6TcpAckPsh);
        Assert.Equal(PacketDropReason.None, Ipv6Header.TryCreate(packet, out Ipv6Header ip));
        Assert.Equal(6, ip.Version);
        Assert.Equal(0x2e, ip.TrafficClass);
        Assert.Equal(0x12345u, ip.FlowLabel);
        Assert.Equal(26, ip.PayloadLength);
        Assert.Equal(IpProtocol.Tcp, ip.NextHeader);
        Assert.Equal(64, ip.HopLimit);
        Assert.Equal("20010db8000000000000000000000001", Convert.ToHexStringLower(ip.SourceAddress));
        Assert.Equal("20010db8000000000000000000000002", Convert.ToHexStringLower(ip.DestinationAddress));
        Assert.Equal(66, ip.Length);
        Assert.Equal(0, ip.ExtensionHeaderCount);
        Assert.Equal(IpProtocol.Tcp, ip.UpperLayerProtocol);
        Assert.Equal(40, ip.UpperLayerOffset);
        Assert.False(ip.HasFragmentHeader);
        Assert.False(ip.IsFragment);
        Assert.Equal(0u, ip.FragmentIdentification);
    }

    [Fact]
    public void GoldenExtensionChain()
    {
        byte[] packet = GoldenPackets.Bytes(GoldenPackets.V6UdpHopByHopDestOpts);
        Assert.Equal(PacketDropReason.None, Ipv6Header.TryCreate(packet, out Ipv6Header ip));
        Assert.Equal(IpProtocol.Ipv6HopByHop, ip.NextHeader);
        Assert.Equal(2, ip.ExtensionHeaderCount);
        Assert.Equal(IpProtocol.Udp, ip.UpperLayerProtocol);
        Assert.Equal(64, ip.UpperLayerOffset);
        Assert.Equal(11, ip.UpperLayerPayload.Length);
    }

    public static TheoryData<string, Ipv6Extension[], byte, int, int> Chains => new()
    {
        { "none", [], IpProtocol.Udp, 40, 0 },
        { "hop-by-hop", [Ipv6Extension.HopByHop()], IpProtocol.Udp, 48, 1 },
        { "hop-by-hop 2048", [Ipv6Extension.HopByHop(2048)], IpProtocol.Tcp, 40 + 2048, 1 },
        { "routing", [Ipv6Extension.Routing(2)], IpProtocol.Tcp, 40 + 40, 1 },
        { "dest opts", [Ipv6Extension.DestinationOptions(24)], IpProtocol.IcmpV6, 64, 1 },
        { "AH", [Ipv6Extension.AuthenticationHeader()], IpProtocol.Tcp, 64, 1 },
        { "AH 16-byte ICV", [Ipv6Extension.AuthenticationHeader(16)], IpProtocol.Udp, 68, 1 },
        { "atomic fragment", [Ipv6Extension.Fragment(0, false)], IpProtocol.Udp, 48, 1 },
        {
            "all kinds",
            [Ipv6Extension.HopByHop(), Ipv6Extension.DestinationOptions(), Ipv6Extension.Routing(), Ipv6Extension.Fragment(0, false), Ipv6Extension.AuthenticationHeader(), Ipv6Extension.DestinationOptions(16)],
            IpProtocol.Tcp,
            40 + 8 + 8 + 24 + 8 + 24 + 16,
            6
        },
        {
            "eight headers",
            [Ipv6Extension.HopByHop(), .. Enumerable.Repeat(Ipv6Extension.DestinationOptions(), 7)],
            IpProtocol.Udp,
            40 + 64,
            8
        },
        { "ESP ends the walk", [Ipv6Extension.HopByHop()], IpProtocol.Esp, 48, 1 },
        { "no next header", [Ipv6Extension.DestinationOptions()], IpProtocol.Ipv6NoNextHeader, 48, 1 },
        { "unknown protocol", [], 253, 40, 0 },
    };

    [Theory]
    [MemberData(nameof(Chains))]
    public void WalksExtensionChains(string name, Ipv6Extension[] extensions, byte protocol, int upperOffset, int count)
    {
        byte[] upper = protocol switch
        {
            IpProtocol.Tcp => PacketBuilder.Tcp(payload: [1, 2, 3]),
            IpProtocol.Udp => PacketBuilder.Udp(payload: [1, 2, 3]),
            IpProtocol.IcmpV6 => PacketBuilder.Icmp(128),
            _ => [],
        };
        byte[] packet = PacketBuilder.Ipv6(protocol, upper, new Ipv6Spec { Extensions = extensions });
        Assert.True(Ipv6Header.TryCreate(packet, out Ipv6Header ip) == PacketDropReason.None, name);
        Assert.Equal(protocol, ip.UpperLayerProtocol);
        Assert.Equal(upperOffset, ip.UpperLayerOffset);
        Assert.Equal(count, ip.ExtensionHeaderCount);
        Assert.False(ip.IsFragment);

        Assert.Equal(PacketDropReason.None, PacketParser.TryParse(packet, out PacketInfo info));
        Assert.Equal(protocol, info.Protocol);
        Assert.Equal(upperOffset, info.TransportOffset);
    }

    [Fact]
    public void FirstFragmentContinuesTheWalk()
    {
        byte[] packet = PacketBuilder.Ipv6(
            IpProtocol.Tcp,
            PacketBuilder.Tcp(payload: new byte[100]),
            new Ipv6Spec { Extensions = [Ipv6Extension.HopByHop(), Ipv6Extension.Fragment(0, true, 0x01020304), Ipv6Extension.DestinationOptions()] });
        Assert.Equal(PacketDropReason.None, Ipv6Header.TryCreate(packet, out Ipv6Header ip));
        Assert.True(ip.IsFragment);
        Assert.True(ip.IsFirstFragment);
        Assert.True(ip.MoreFragments);
        Assert.Equal(0, ip.FragmentOffset);
        Assert.Equal(0x01020304u, ip.FragmentIdentification);
        Assert.Equal(IpProtocol.Tcp, ip.UpperLayerProtocol);
        Assert.Equal(64, ip.UpperLayerOffset);
        Assert.Equal(3, ip.ExtensionHeaderCount);
    }

    [Theory]
    [InlineData(8, true)]
    [InlineData(1232, false)]
    [InlineData(65528, true)]
    public void LaterFragmentStopsAtTheFragmentHeader(int offset, bool more)
    {
        // The bytes after the fragment header are the middle of the original payload; here they
        // even look like an extension header, which must not be followed.
        byte[] data = [IpProtocol.Tcp, 200, 0, 0, 0, 0, 0, 0];
        byte[] packet = PacketBuilder.Ipv6(
            IpProtocol.Ipv6DestinationOptions,
            data,
            new Ipv6Spec { Extensions = [Ipv6Extension.HopByHop(), Ipv6Extension.Fragment(offset, more)] });
        Assert.Equal(PacketDropReason.None, Ipv6Header.TryCreate(packet, out Ipv6Header ip));
        Assert.True(ip.IsFragment);
        Assert.False(ip.IsFirstFragment);
        Assert.Equal(offset, ip.FragmentOffset);
        Assert.Equal(more, ip.MoreFragments);
        Assert.Equal(IpProtocol.Ipv6DestinationOptions, ip.UpperLayerProtocol);
        Assert.Equal(56, ip.UpperLayerOffset);
        Assert.Equal(2, ip.ExtensionHeaderCount);
    }

    [Fact]
    public void LaterFragmentMayEndRightAfterTheFragmentHeader()
    {
        byte[] packet = PacketBuilder.Ipv6(IpProtocol.Udp, [], new Ipv6Spec { Extensions = [Ipv6Extension.Fragment(64, false)] });
        Assert.Equal(PacketDropReason.None, PacketParser.TryParse(packet, out PacketInfo info));
        Assert.True(info.IsFragment);
        Assert.Equal(48, info.TransportOffset);
        Assert.Equal(48, info.Length);
    }

    public static TheoryData<string, Ipv6Extension[], PacketDropReason> BadChains => new()
    {
        { "hop-by-hop second", [Ipv6Extension.DestinationOptions(), Ipv6Extension.HopByHop()], PacketDropReason.BadExtensionChain },
        { "two fragment headers", [Ipv6Extension.Fragment(0, true), Ipv6Extension.Fragment(0, true)], PacketDropReason.BadExtensionChain },
        { "nine headers", [Ipv6Extension.HopByHop(), .. Enumerable.Repeat(Ipv6Extension.DestinationOptions(), 8)], PacketDropReason.BadExtensionChain },
    };

    [Theory]
    [MemberData(nameof(BadChains))]
    public void RefusesBadChains(string name, Ipv6Extension[] extensions, PacketDropReason expected)
    {
        byte[] packet = PacketBuilder.Ipv6(IpProtocol.Udp, PacketBuilder.Udp(), new Ipv6Spec { Extensions = extensions });
        Assert.True(expected == Ipv6Header.TryCreate(packet, out _), name);
        Assert.Equal(expected, PacketParser.TryParse(packet, out _));
    }

    [Fact]
    public void ExtensionHeaderLengthPastThePayloadIsRefused()
    {
        byte[] packet = PacketBuilder.Ipv6(IpProtocol.Udp, PacketBuilder.Udp(), new Ipv6Spec { Extensions = [Ipv6Extension.HopByHop()] });
        packet[41] = 2; // claims 24 bytes, 16 are there
        Assert.Equal(PacketDropReason.BadExtensionChain, Ipv6Header.TryCreate(packet, out _));
        packet[41] = 255;
        Assert.Equal(PacketDropReason.BadExtensionChain, Ipv6Header.TryCreate(packet, out _));
    }

    [Fact]
    public void ExtensionHeaderPastThePayloadLengthIsRefusedEvenWithTrailingBytes()
    {
        // Payload length says 0 bytes follow; the span has more, but they are not part of the packet.
        byte[] packet = PacketBuilder.Ipv6(IpProtocol.Udp, PacketBuilder.Udp(), new Ipv6Spec { Extensions = [Ipv6Extension.DestinationOptions()] });
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), 4);
        Assert.Equal(PacketDropReason.BadExtensionChain, Ipv6Header.TryCreate(packet, out _));
    }

    [Fact]
    public void JumbogramIsTooLarge()
    {
        byte[] packet = PacketBuilder.Ipv6(IpProtocol.Udp, PacketBuilder.Udp(), new Ipv6Spec { Extensions = [Ipv6Extension.HopByHop()] });
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), 0);
        Assert.Equal(PacketDropReason.TooLarge, Ipv6Header.TryCreate(packet, out _));
    }

    [Fact]
    public void EmptyPayloadWithNoNextHeaderIsValid()
    {
        byte[] packet = PacketBuilder.Ipv6(IpProtocol.Ipv6NoNextHeader, []);
        Assert.Equal(PacketDropReason.None, PacketParser.TryParse(packet, out PacketInfo info));
        Assert.Equal(40, info.Length);
        Assert.Equal(IpProtocol.Ipv6NoNextHeader, info.Protocol);
    }

    [Theory]
    [InlineData("", PacketDropReason.Truncated)]
    [InlineData("60", PacketDropReason.Truncated)]
    [InlineData("600000000000114000000000000000000000000000000000000000000000000000000000000000", PacketDropReason.Truncated)]
    [InlineData("40000000000011400000000000000000000000000000000000000000000000000000000000000000", PacketDropReason.BadVersion)]
    [InlineData("60000000000111400000000000000000000000000000000000000000000000000000000000000000", PacketDropReason.Truncated)]
    public void MalformedFixedHeaders(string hex, PacketDropReason expected)
    {
        Assert.Equal(expected, Ipv6Header.TryCreate(Convert.FromHexString(hex), out _));
    }
}
