using XenVmc.Packets;
using Xunit;

namespace XenVmc.Packets.Tests;

public class UdpHeaderTests
{
    [Fact]
    public void GoldenFields()
    {
        byte[] packet = GoldenPackets.Bytes(GoldenPackets.V4UdpWithOptions);
        Assert.Equal(PacketDropReason.None, UdpHeader.TryCreate(packet.AsSpan(28), out UdpHeader udp));
        Assert.Equal(5353, udp.SourcePort);
        Assert.Equal(53, udp.DestinationPort);
        Assert.Equal(13, udp.Length);
        Assert.Equal(0xbaac, udp.Checksum);
        Assert.Equal("hello"u8.ToArray(), udp.Payload.ToArray());
        Assert.Equal(13, udp.Datagram.Length);
    }

    [Theory]
    [InlineData(0, PacketDropReason.BadTransportHeader)]
    [InlineData(7, PacketDropReason.BadTransportHeader)]
    [InlineData(8, PacketDropReason.None)]
    [InlineData(9, PacketDropReason.None)]
    public void HeaderMustFit(int length, PacketDropReason expected)
    {
        Assert.Equal(expected, UdpHeader.TryCreate(new byte[length], out _));
    }

    [Fact]
    public void LengthFieldIsReportedNotTrusted()
    {
        byte[] datagram = PacketBuilder.Udp(payload: [1, 2]);
        datagram[4] = 0xFF;
        datagram[5] = 0xFF;
        Assert.Equal(PacketDropReason.None, UdpHeader.TryCreate(datagram, out UdpHeader udp));
        Assert.Equal(0xFFFF, udp.Length);
        Assert.Equal(2, udp.Payload.Length);
    }
}
