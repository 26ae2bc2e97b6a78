using XenVmc.Packets;
using Xunit;

namespace XenVmc.Packets.Tests;

/// <summary><see cref="PacketParser.ValidateVnet"/>: virtio-net headers from an untrusted peer.</summary>
public class PacketParserVnetTests
{
    private const VirtioNetHeaderFlags Csum = VirtioNetHeaderFlags.NeedsChecksum;
    private const VirtioNetHeaderFlags Valid = VirtioNetHeaderFlags.DataValid;

    private static readonly byte[] Tcp4 = PacketBuilder.Ipv4(IpProtocol.Tcp, PacketBuilder.Tcp(payload: new byte[3000]));       // 3040, L4 at 20
    private static readonly byte[] Tcp6 = PacketBuilder.Ipv6(IpProtocol.Tcp, PacketBuilder.Tcp(payload: new byte[3000]));       // 3060, L4 at 40
    private static readonly byte[] Udp4 = PacketBuilder.Ipv4(IpProtocol.Udp, PacketBuilder.Udp(payload: new byte[3000]));       // 3028, L4 at 20
    private static readonly byte[] Udp6Ext = PacketBuilder.Ipv6(
        IpProtocol.Udp, PacketBuilder.Udp(payload: new byte[3000]), new Ipv6Spec { Extensions = [Ipv6Extension.DestinationOptions()] }); // L4 at 48
    private static readonly byte[] Icmp4 = PacketBuilder.Ipv4(IpProtocol.Icmp, PacketBuilder.Icmp(8, payload: new byte[32]));
    private static readonly byte[] Tcp4FirstFragment = PacketBuilder.Ipv4(
        IpProtocol.Tcp, PacketBuilder.Tcp(payload: new byte[100]), new Ipv4Spec { MoreFragments = true, DontFragment = false });
    private static readonly byte[] Udp6Fragment = PacketBuilder.Ipv6(
        IpProtocol.Udp, PacketBuilder.Udp(payload: new byte[100]), new Ipv6Spec { Extensions = [Ipv6Extension.Fragment(0, true)] });
    private static readonly byte[] Tiny = PacketBuilder.Ipv4(IpProtocol.Udp, PacketBuilder.Udp()); // 28 bytes

    public static TheoryData<string, byte[], byte[], PacketDropReason> Cases => new()
    {
        // Accepted: what Linux produces on a TUN read, and what wireguard-go writes.
        { "all zero", Tcp4, PacketBuilder.Vnet(), PacketDropReason.None },
        { "data valid", Udp4, PacketBuilder.Vnet(Valid), PacketDropReason.None },
        { "csum tcp4", Tcp4, PacketBuilder.Vnet(Csum, checksumStart: 20, checksumOffset: 16), PacketDropReason.None },
        { "csum udp4", Udp4, PacketBuilder.Vnet(Csum, checksumStart: 20, checksumOffset: 6), PacketDropReason.None },
        { "csum udp6 after ext", Udp6Ext, PacketBuilder.Vnet(Csum, checksumStart: 48, checksumOffset: 6), PacketDropReason.None },
        { "tso4", Tcp4, PacketBuilder.Vnet(Csum, VirtioNetGsoType.TcpV4, 40, 1448, 20, 16), PacketDropReason.None },
        { "tso4 ecn", Tcp4, PacketBuilder.Vnet(Csum, VirtioNetGsoType.TcpV4 | VirtioNetGsoType.Ecn, 40, 1448, 20, 16), PacketDropReason.None },
        { "tso4 without csum", Tcp4, PacketBuilder.Vnet(gsoType: VirtioNetGsoType.TcpV4, headerLength: 40, gsoSize: 1448), PacketDropReason.None },
        { "tso6", Tcp6, PacketBuilder.Vnet(Csum, VirtioNetGsoType.TcpV6, 60, 1428, 40, 16), PacketDropReason.None },
        { "uso v4", Udp4, PacketBuilder.Vnet(Csum, VirtioNetGsoType.UdpL4, 28, 1472, 20, 6), PacketDropReason.None },
        { "uso v6", Udp6Ext, PacketBuilder.Vnet(Csum, VirtioNetGsoType.UdpL4, 56, 1232, 48, 6), PacketDropReason.None },
        { "hdr_len = whole packet", Tiny, PacketBuilder.Vnet(headerLength: 28), PacketDropReason.None },
        { "csum field ends at packet end", Tiny, PacketBuilder.Vnet(Csum, checksumStart: 20, checksumOffset: 6), PacketDropReason.None },

        // Refused.
        { "short header", Tcp4, new byte[9], PacketDropReason.BadVnetHeader },
        { "unknown flag", Tcp4, PacketBuilder.Vnet((VirtioNetHeaderFlags)8), PacketDropReason.BadVnetHeader },
        { "rsc info", Tcp4, PacketBuilder.Vnet(VirtioNetHeaderFlags.RscInfo), PacketDropReason.BadVnetHeader },
        { "csum and data valid", Tcp4, PacketBuilder.Vnet(Csum | Valid, checksumStart: 20, checksumOffset: 16), PacketDropReason.BadVnetHeader },
        { "hdr_len past packet", Tiny, PacketBuilder.Vnet(headerLength: 29), PacketDropReason.BadVnetHeader },
        { "ufo", Udp4, PacketBuilder.Vnet(Csum, VirtioNetGsoType.Udp, 28, 1472, 20, 6), PacketDropReason.BadVnetHeader },
        { "gso type 2", Tcp4, PacketBuilder.Vnet(Csum, (VirtioNetGsoType)2, 40, 1448, 20, 16), PacketDropReason.BadVnetHeader },
        { "gso type 6", Tcp4, PacketBuilder.Vnet(Csum, (VirtioNetGsoType)6, 40, 1448, 20, 16), PacketDropReason.BadVnetHeader },
        { "udp tunnel bits", Udp4, PacketBuilder.Vnet(Csum, (VirtioNetGsoType)0x25, 28, 1472, 20, 6), PacketDropReason.BadVnetHeader },
        { "ecn alone", Tcp4, PacketBuilder.Vnet(gsoType: VirtioNetGsoType.Ecn), PacketDropReason.BadVnetHeader },
        { "ecn on uso", Udp4, PacketBuilder.Vnet(Csum, VirtioNetGsoType.UdpL4 | VirtioNetGsoType.Ecn, 28, 1472, 20, 6), PacketDropReason.BadVnetHeader },
        { "tso4 on ipv6", Tcp6, PacketBuilder.Vnet(Csum, VirtioNetGsoType.TcpV4, 60, 1428, 40, 16), PacketDropReason.BadVnetHeader },
        { "tso6 on ipv4", Tcp4, PacketBuilder.Vnet(Csum, VirtioNetGsoType.TcpV6, 40, 1448, 20, 16), PacketDropReason.BadVnetHeader },
        { "tso on udp", Udp4, PacketBuilder.Vnet(Csum, VirtioNetGsoType.TcpV4, 28, 1448, 20, 6), PacketDropReason.BadVnetHeader },
        { "uso on tcp", Tcp4, PacketBuilder.Vnet(Csum, VirtioNetGsoType.UdpL4, 40, 1448, 20, 16), PacketDropReason.BadVnetHeader },
        { "uso without csum", Udp4, PacketBuilder.Vnet(gsoType: VirtioNetGsoType.UdpL4, headerLength: 28, gsoSize: 1472), PacketDropReason.BadVnetHeader },
        { "gso size 0", Tcp4, PacketBuilder.Vnet(Csum, VirtioNetGsoType.TcpV4, 40, 0, 20, 16), PacketDropReason.BadVnetHeader },
        { "gso size without gso", Tcp4, PacketBuilder.Vnet(Csum, VirtioNetGsoType.None, 40, 1448, 20, 16), PacketDropReason.BadVnetHeader },
        { "gso on fragment", Tcp4FirstFragment, PacketBuilder.Vnet(Csum, VirtioNetGsoType.TcpV4, 40, 60, 20, 16), PacketDropReason.BadVnetHeader },
        { "csum on v4 fragment", Tcp4FirstFragment, PacketBuilder.Vnet(Csum, checksumStart: 20, checksumOffset: 16), PacketDropReason.BadVnetHeader },
        { "csum on v6 fragment", Udp6Fragment, PacketBuilder.Vnet(Csum, checksumStart: 48, checksumOffset: 6), PacketDropReason.BadVnetHeader },
        { "csum start before L4", Tcp4, PacketBuilder.Vnet(Csum, checksumStart: 0, checksumOffset: 16), PacketDropReason.BadVnetHeader },
        { "csum start after L4", Tcp4, PacketBuilder.Vnet(Csum, checksumStart: 24, checksumOffset: 12), PacketDropReason.BadVnetHeader },
        { "csum start skips ext header", Udp6Ext, PacketBuilder.Vnet(Csum, checksumStart: 40, checksumOffset: 6), PacketDropReason.BadVnetHeader },
        { "tcp csum offset 6", Tcp4, PacketBuilder.Vnet(Csum, checksumStart: 20, checksumOffset: 6), PacketDropReason.BadVnetHeader },
        { "udp csum offset 16", Udp4, PacketBuilder.Vnet(Csum, checksumStart: 20, checksumOffset: 16), PacketDropReason.BadVnetHeader },
        { "csum on icmp", Icmp4, PacketBuilder.Vnet(Csum, checksumStart: 20, checksumOffset: 2), PacketDropReason.BadVnetHeader },
        { "csum offset huge", Tcp4, PacketBuilder.Vnet(Csum, checksumStart: 20, checksumOffset: 0xFFFF), PacketDropReason.BadVnetHeader },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Validates(string name, byte[] packet, byte[] vnet, PacketDropReason expected)
    {
        Assert.Equal(PacketDropReason.None, PacketParser.TryParse(packet, out PacketInfo info));
        Assert.True(expected == PacketParser.ValidateVnet(vnet, info), name);
    }

    [Fact]
    public void ChecksumFieldMustBeInsideThePacketItSays()
    {
        // A UDP header is 8 bytes; with trailing junk after the IP total length, a csum field that
        // lies in the junk is still outside the packet.
        byte[] packet = PacketBuilder.Concat(Tiny, new byte[64]);
        Assert.Equal(PacketDropReason.None, PacketParser.TryParse(packet, out PacketInfo info));
        Assert.Equal(28, info.Length);
        Assert.Equal(PacketDropReason.BadVnetHeader, PacketParser.ValidateVnet(PacketBuilder.Vnet(headerLength: 40), info));
    }

    [Fact]
    public void DefaultInfoIsRefused()
    {
        Assert.Equal(PacketDropReason.BadVnetHeader, PacketParser.ValidateVnet(PacketBuilder.Vnet(), default));
    }

    [Fact]
    public void RandomHeadersNeverThrowAndAcceptedOnesObeyTheRules()
    {
        var random = new Random(5);
        byte[][] packets = [Tcp4, Tcp6, Udp4, Udp6Ext, Icmp4, Tcp4FirstFragment, Udp6Fragment, Tiny];
        byte[] vnet = new byte[VirtioNetHeader.Size];
        int accepted = 0;
        for (int i = 0; i < 200_000; i++)
        {
            byte[] packet = packets[random.Next(packets.Length)];
            Assert.Equal(PacketDropReason.None, PacketParser.TryParse(packet, out PacketInfo info));
            random.NextBytes(vnet);
            vnet[0] &= (byte)(i % 2 == 0 ? 3 : 0xFF);
            vnet[1] = (i % 3) switch { 0 => (byte)random.Next(6), 1 => (byte)(random.Next(6) | 0x80), _ => vnet[1] };
            if (i % 4 == 0)
            {
                vnet[2] = vnet[3] = vnet[7] = vnet[9] = 0;
                vnet[6] = (byte)info.TransportOffset;
                vnet[8] = (byte)random.Next(20);
            }

            if (PacketParser.ValidateVnet(vnet, info) != PacketDropReason.None)
            {
                continue;
            }

            accepted++;
            Assert.Equal(PacketDropReason.None, VirtioNetHeader.TryCreate(vnet, out VirtioNetHeader h));
            Assert.True(h.HeaderLength <= info.Length);
            Assert.Equal(h.GsoKind != VirtioNetGsoType.None, h.GsoSize > 0);
            if ((h.Flags & VirtioNetHeaderFlags.NeedsChecksum) != 0)
            {
                Assert.Equal(info.TransportOffset, h.ChecksumStart);
                Assert.True(h.ChecksumStart + h.ChecksumOffset + 2 <= info.Length);
                Assert.False(info.IsFragment);
            }
        }

        Assert.True(accepted > 100, $"only {accepted} accepted");
    }
}
