using XenVmc.Packets;
using Xunit;

namespace XenVmc.Packets.Tests;

public class VirtioNetHeaderTests
{
    /// <summary>sizeof(struct virtio_net_hdr) in linux/virtio_net.h: what TUNSETVNETHDRSZ is set to.</summary>
    [Fact]
    public void SizeIsTheKernelStruct() => Assert.Equal(10, VirtioNetHeader.Size);

    [Fact]
    public void WritesLittleEndianLayout()
    {
        byte[] bytes = new byte[12];
        VirtioNetHeader.Write(bytes, VirtioNetHeaderFlags.NeedsChecksum, VirtioNetGsoType.TcpV4 | VirtioNetGsoType.Ecn, 0x0034, 0x05a8, 0x0014, 0x0010);
        Assert.Equal("0181" + "3400" + "a805" + "1400" + "1000" + "0000", Convert.ToHexStringLower(bytes));
    }

    [Fact]
    public void ReadsGoldenBytes()
    {
        // What Linux hands out for a 3-segment IPv6 TCP super-packet: NEEDS_CSUM, TCPV6, hdr_len 72, MSS 1428.
        byte[] bytes = Convert.FromHexString("0104" + "4800" + "9405" + "2800" + "1000");
        Assert.Equal(PacketDropReason.None, VirtioNetHeader.TryCreate(bytes, out VirtioNetHeader vnet));
        Assert.Equal(VirtioNetHeaderFlags.NeedsChecksum, vnet.Flags);
        Assert.Equal(VirtioNetGsoType.TcpV6, vnet.GsoType);
        Assert.Equal(VirtioNetGsoType.TcpV6, vnet.GsoKind);
        Assert.False(vnet.HasEcn);
        Assert.Equal(72, vnet.HeaderLength);
        Assert.Equal(1428, vnet.GsoSize);
        Assert.Equal(40, vnet.ChecksumStart);
        Assert.Equal(16, vnet.ChecksumOffset);
    }

    [Fact]
    public void EcnFlagIsSeparatedFromTheKind()
    {
        Assert.Equal(PacketDropReason.None, VirtioNetHeader.TryCreate(PacketBuilder.Vnet(gsoType: VirtioNetGsoType.TcpV4 | VirtioNetGsoType.Ecn), out VirtioNetHeader vnet));
        Assert.Equal(VirtioNetGsoType.TcpV4, vnet.GsoKind);
        Assert.True(vnet.HasEcn);
        Assert.Equal((VirtioNetGsoType)0x81, vnet.GsoType);
    }

    [Fact]
    public void RoundTripsEveryField()
    {
        var random = new Random(3);
        for (int i = 0; i < 1000; i++)
        {
            var flags = (VirtioNetHeaderFlags)random.Next(256);
            var gso = (VirtioNetGsoType)random.Next(256);
            ushort a = (ushort)random.Next(65536), b = (ushort)random.Next(65536), c = (ushort)random.Next(65536), d = (ushort)random.Next(65536);
            byte[] bytes = PacketBuilder.Vnet(flags, gso, a, b, c, d);
            Assert.Equal(PacketDropReason.None, VirtioNetHeader.TryCreate(bytes, out VirtioNetHeader vnet));
            Assert.Equal(flags, vnet.Flags);
            Assert.Equal(gso, vnet.GsoType);
            Assert.Equal(a, vnet.HeaderLength);
            Assert.Equal(b, vnet.GsoSize);
            Assert.Equal(c, vnet.ChecksumStart);
            Assert.Equal(d, vnet.ChecksumOffset);
        }
    }

    [Fact]
    public void WriteNoneIsAllZero()
    {
        byte[] bytes = Enumerable.Repeat((byte)0xAA, 10).ToArray();
        VirtioNetHeader.WriteNone(bytes);
        Assert.All(bytes, b => Assert.Equal(0, b));
    }

    [Fact]
    public void ShortInputIsRefused()
    {
        Assert.Equal(PacketDropReason.BadVnetHeader, VirtioNetHeader.TryCreate(new byte[9], out _));
        Assert.Throws<ArgumentException>(() => VirtioNetHeader.WriteNone(new byte[9]));
    }
}
