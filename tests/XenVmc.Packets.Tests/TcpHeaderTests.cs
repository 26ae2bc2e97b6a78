using XenVmc.Packets;
using Xunit;

namespace XenVmc.Packets.Tests;

public class TcpHeaderTests
{
    [Fact]
    public void GoldenSynFields()
    {
        byte[] packet = GoldenPackets.Bytes(GoldenPackets.V4TcpSyn);
        Assert.Equal(PacketDropReason.None, TcpHeader.TryCreate(packet.AsSpan(20), out TcpHeader tcp));
        Assert.Equal(40000, tcp.SourcePort);
        Assert.Equal(80, tcp.DestinationPort);
        Assert.Equal(0x01020304u, tcp.SequenceNumber);
        Assert.Equal(0u, tcp.AcknowledgmentNumber);
        Assert.Equal(28, tcp.HeaderLength);
        Assert.Equal(TcpFlags.Syn, tcp.Flags);
        Assert.Equal(64240, tcp.WindowSize);
        Assert.Equal(0xfb60, tcp.Checksum);
        Assert.Equal(0, tcp.UrgentPointer);
        Assert.Equal("020405b401010402", Convert.ToHexStringLower(tcp.Options));
        Assert.True(tcp.Payload.IsEmpty);
        Assert.Equal(28, tcp.Segment.Length);
    }

    [Fact]
    public void GoldenAckPshPayload()
    {
        byte[] packet = GoldenPackets.Bytes(GoldenPackets.V6TcpAckPsh);
        Assert.Equal(PacketDropReason.None, TcpHeader.TryCreate(packet.AsSpan(40), out TcpHeader tcp));
        Assert.Equal(TcpFlags.Ack | TcpFlags.Psh, tcp.Flags);
        Assert.Equal(0xfffffff0u, tcp.SequenceNumber);
        Assert.Equal(0x10u, tcp.AcknowledgmentNumber);
        Assert.Equal("xenvmc"u8.ToArray(), tcp.Payload.ToArray());
        Assert.True(tcp.Options.IsEmpty);
    }

    [Theory]
    [InlineData(0, 20, PacketDropReason.BadTransportHeader)]
    [InlineData(4, 20, PacketDropReason.BadTransportHeader)]
    [InlineData(5, 19, PacketDropReason.BadTransportHeader)]
    [InlineData(5, 20, PacketDropReason.None)]
    [InlineData(6, 23, PacketDropReason.BadTransportHeader)]
    [InlineData(6, 24, PacketDropReason.None)]
    [InlineData(15, 59, PacketDropReason.BadTransportHeader)]
    [InlineData(15, 60, PacketDropReason.None)]
    [InlineData(15, 1000, PacketDropReason.None)]
    public void DataOffsetBounds(int dataOffset, int segmentLength, PacketDropReason expected)
    {
        byte[] segment = new byte[segmentLength];
        if (segmentLength > 12)
        {
            segment[12] = (byte)(dataOffset << 4);
        }

        PacketDropReason reason = TcpHeader.TryCreate(segment, out TcpHeader tcp);
        Assert.Equal(expected, reason);
        if (reason == PacketDropReason.None)
        {
            Assert.Equal(dataOffset * 4, tcp.HeaderLength);
            Assert.Equal((dataOffset * 4) - 20, tcp.Options.Length);
            Assert.Equal(segmentLength - (dataOffset * 4), tcp.Payload.Length);
        }
    }

    [Fact]
    public void AllFlagBits()
    {
        byte[] segment = PacketBuilder.Tcp(flags: (TcpFlags)0xFF);
        Assert.Equal(PacketDropReason.None, TcpHeader.TryCreate(segment, out TcpHeader tcp));
        Assert.Equal(
            TcpFlags.Fin | TcpFlags.Syn | TcpFlags.Rst | TcpFlags.Psh | TcpFlags.Ack | TcpFlags.Urg | TcpFlags.Ece | TcpFlags.Cwr,
            tcp.Flags);
    }
}
