using XenVmc.Packets;
using Xunit;

namespace XenVmc.Packets.Tests;

public class IcmpHeaderTests
{
    [Fact]
    public void GoldenV4Echo()
    {
        byte[] packet = GoldenPackets.Bytes(GoldenPackets.V4IcmpEcho);
        Assert.Equal(PacketDropReason.None, IcmpHeader.TryCreate(packet.AsSpan(20), out IcmpHeader icmp));
        Assert.Equal(8, icmp.Type);
        Assert.Equal(Icmpv4Type.EchoRequest, icmp.V4Type);
        Assert.Equal(0, icmp.Code);
        Assert.Equal(0x2427, icmp.Checksum);
        Assert.Equal(0x42420001u, icmp.RestOfHeader);
        Assert.Equal("abcdefgh"u8.ToArray(), icmp.Payload.ToArray());
        Assert.True(Checksum.Verify(icmp.Message));
    }

    [Fact]
    public void GoldenV6Echo()
    {
        byte[] packet = GoldenPackets.Bytes(GoldenPackets.V6IcmpEcho);
        Assert.Equal(PacketDropReason.None, Ipv6Header.TryCreate(packet, out Ipv6Header ip));
        Assert.Equal(PacketDropReason.None, IcmpHeader.TryCreate(ip.UpperLayerPayload, out IcmpHeader icmp));
        Assert.Equal(Icmpv6Type.EchoRequest, icmp.V6Type);
        Assert.Equal(0x4570, icmp.Checksum);
        Assert.Equal(0x00010002u, icmp.RestOfHeader);
        ushort pseudo = Checksum.PseudoHeaderSumV6(ip.SourceAddress, ip.DestinationAddress, IpProtocol.IcmpV6, (uint)icmp.Message.Length);
        Assert.True(Checksum.Verify(icmp.Message, pseudo));
    }

    [Theory]
    [InlineData(3, 1, Icmpv4Type.DestinationUnreachable, Icmpv6Type.TimeExceeded)]
    [InlineData(11, 0, Icmpv4Type.TimeExceeded, (Icmpv6Type)11)]
    [InlineData(129, 0, (Icmpv4Type)129, Icmpv6Type.EchoReply)]
    [InlineData(2, 0, (Icmpv4Type)2, Icmpv6Type.PacketTooBig)]
    public void TypeAndCodeAreReadForBothVersions(byte type, byte code, Icmpv4Type v4, Icmpv6Type v6)
    {
        Assert.Equal(PacketDropReason.None, IcmpHeader.TryCreate(PacketBuilder.Icmp(type, code, 1280), out IcmpHeader icmp));
        Assert.Equal(type, icmp.Type);
        Assert.Equal(code, icmp.Code);
        Assert.Equal(v4, icmp.V4Type);
        Assert.Equal(v6, icmp.V6Type);
        Assert.Equal(1280u, icmp.RestOfHeader);
    }

    [Theory]
    [InlineData(0, PacketDropReason.BadTransportHeader)]
    [InlineData(4, PacketDropReason.BadTransportHeader)]
    [InlineData(7, PacketDropReason.BadTransportHeader)]
    [InlineData(8, PacketDropReason.None)]
    public void HeaderMustFit(int length, PacketDropReason expected)
    {
        Assert.Equal(expected, IcmpHeader.TryCreate(new byte[length], out _));
    }
}
