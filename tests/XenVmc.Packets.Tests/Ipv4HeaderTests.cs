using System.Buffers.Binary;
using XenVmc.Packets;
using Xunit;

namespace XenVmc.Packets.Tests;

public class Ipv4HeaderTests
{
    [Fact]
    public void GoldenTcpSynFields()
    {
        byte[] packet = GoldenPackets.Bytes(GoldenPackets.V4TcpSyn);
        Assert.Equal(PacketDropReason.None, Ipv4Header.TryCreate(packet, out Ipv4Header ip));
        Assert.Equal(4, ip.Version);
        Assert.Equal(20, ip.HeaderLength);
        Assert.Equal(0, ip.TypeOfService);
        Assert.Equal(48, ip.TotalLength);
        Assert.Equal(0x1234, ip.Identification);
        Assert.True(ip.DontFragment);
        Assert.False(ip.MoreFragments);
        Assert.Equal(0, ip.FragmentOffset);
        Assert.False(ip.IsFragment);
        Assert.False(ip.IsFirstFragment);
        Assert.Equal(64, ip.TimeToLive);
        Assert.Equal(IpProtocol.Tcp, ip.Protocol);
        Assert.Equal(0x3c5d, ip.HeaderChecksum);
        Assert.True(ip.IsHeaderChecksumValid());
        Assert.Equal([192, 0, 2, 1], ip.SourceAddress.ToArray());
        Assert.Equal([198, 51, 100, 2], ip.DestinationAddress.ToArray());
        Assert.True(ip.Options.IsEmpty);
        Assert.Equal(28, ip.Payload.Length);
        Assert.Equal(48, ip.Packet.Length);
    }

    [Fact]
    public void GoldenOptionsAreExposedAndEnumerated()
    {
        byte[] packet = GoldenPackets.Bytes(GoldenPackets.V4UdpWithOptions);
        Assert.Equal(PacketDropReason.None, Ipv4Header.TryCreate(packet, out Ipv4Header ip));
        Assert.Equal(28, ip.HeaderLength);
        Assert.Equal(1, ip.TimeToLive);
        Assert.False(ip.DontFragment);
        Assert.Equal("0101940400000000", Convert.ToHexStringLower(ip.Options));
        Assert.Equal(13, ip.Payload.Length);

        var types = new List<byte>();
        var data = new List<string>();
        foreach (Ipv4Option option in ip.EnumerateOptions())
        {
            types.Add(option.Type);
            data.Add(Convert.ToHexStringLower(option.Data));
        }

        Assert.Equal([1, 1, 0x94], types);
        Assert.Equal(["", "", "0000"], data);
    }

    [Fact]
    public void TrailingBytesAreOutsideTheView()
    {
        byte[] packet = PacketBuilder.Concat(GoldenPackets.Bytes(GoldenPackets.V4IcmpEcho), [0xEE, 0xEE, 0xEE]);
        Assert.Equal(PacketDropReason.None, Ipv4Header.TryCreate(packet, out Ipv4Header ip));
        Assert.Equal(36, ip.Packet.Length);
        Assert.Equal(16, ip.Payload.Length);
    }

    [Theory]
    [InlineData(false, 0, false, false)]    // not a fragment
    [InlineData(true, 0, true, true)]       // first fragment
    [InlineData(true, 1480, true, false)]   // middle fragment
    [InlineData(false, 2960, true, false)]  // last fragment
    public void FragmentFlags(bool more, int offset, bool isFragment, bool isFirst)
    {
        byte[] packet = PacketBuilder.Ipv4(IpProtocol.Udp, PacketBuilder.Udp(payload: new byte[64]), new Ipv4Spec { DontFragment = false, MoreFragments = more, FragmentOffset = offset });
        Assert.Equal(PacketDropReason.None, Ipv4Header.TryCreate(packet, out Ipv4Header ip));
        Assert.Equal(more, ip.MoreFragments);
        Assert.Equal(offset, ip.FragmentOffset);
        Assert.Equal(isFragment, ip.IsFragment);
        Assert.Equal(isFirst, ip.IsFirstFragment);
    }

    [Fact]
    public void MaximumFragmentOffset()
    {
        byte[] packet = PacketBuilder.Ipv4(IpProtocol.Udp, new byte[8], new Ipv4Spec { FragmentOffset = 0x1FFF * 8, DontFragment = false });
        Assert.Equal(PacketDropReason.None, Ipv4Header.TryCreate(packet, out Ipv4Header ip));
        Assert.Equal(65528, ip.FragmentOffset);
        Assert.True(ip.IsFragment);
    }

    public static TheoryData<string, string, PacketDropReason> Malformed => new()
    {
        { "empty", "", PacketDropReason.Truncated },
        { "19 bytes", "4500001400000000401100000a0000010a0000", PacketDropReason.Truncated },
        { "version 6", "6500001400000000401100000a0000010a000002", PacketDropReason.BadVersion },
        { "version 0", "0500001400000000401100000a0000010a000002", PacketDropReason.BadVersion },
        { "IHL 4", "4400001400000000401100000a0000010a000002", PacketDropReason.BadHeaderLength },
        { "IHL 0", "4000001400000000401100000a0000010a000002", PacketDropReason.BadHeaderLength },
        { "IHL 6 in 20 bytes", "4600001800000000401100000a0000010a000002", PacketDropReason.Truncated },
        { "total 19", "4500001300000000401100000a0000010a000002", PacketDropReason.BadTotalLength },
        { "total 0", "4500000000000000401100000a0000010a000002", PacketDropReason.BadTotalLength },
        { "total 23 < IHL 6", "4600001700000000401100000a0000010a00000201010101", PacketDropReason.BadTotalLength },
        { "total 21 in 20", "4500001500000000401100000a0000010a000002", PacketDropReason.Truncated },
        { "total 65535 in 20", "4500ffff00000000401100000a0000010a000002", PacketDropReason.Truncated },
        { "option length 1", "4600001800000000401100000a0000010a00000283010000", PacketDropReason.BadHeaderLength },
        { "option length 0", "4600001800000000401100000a0000010a00000244000000", PacketDropReason.BadHeaderLength },
        { "option past header", "4600001800000000401100000a0000010a00000201830500", PacketDropReason.BadHeaderLength },
        { "option type without length", "4600001800000000401100000a0000010a00000201010183", PacketDropReason.BadHeaderLength },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void MalformedHeaders(string name, string hex, PacketDropReason expected)
    {
        Assert.True(expected == Ipv4Header.TryCreate(Convert.FromHexString(hex), out _), name);
    }

    public static TheoryData<string, string> WellFormedOptions => new()
    {
        { "empty", "" },
        { "end of list then garbage", "00ffffff" },
        { "nops", "01010101" },
        { "exact fit", "01830700000000000000000000000000" },
        { "timestamp", "44040500" },
        { "two options", "8204000094040000" },
    };

    [Theory]
    [MemberData(nameof(WellFormedOptions))]
    public void WellFormedOptionLists(string name, string hex)
    {
        Assert.True(Ipv4OptionEnumerator.AreWellFormed(Convert.FromHexString(hex)), name);
        byte[] packet = PacketBuilder.Ipv4(IpProtocol.Udp, PacketBuilder.Udp(), new Ipv4Spec { Options = Convert.FromHexString(hex) });
        Assert.Equal(PacketDropReason.None, Ipv4Header.TryCreate(packet, out _));
    }

    [Fact]
    public void EnumeratorStopsAtMalformedOption()
    {
        var enumerator = new Ipv4OptionEnumerator([0x01, 0x83, 0x09, 0x00]);
        Assert.True(enumerator.MoveNext());
        Assert.Equal(1, enumerator.Current.Type);
        Assert.False(enumerator.MoveNext());
        Assert.False(enumerator.MoveNext());
    }

    [Fact]
    public void SixtyByteHeaderWithFortyBytesOfOptions()
    {
        byte[] options = new byte[40];
        options[0] = 0x07; // record route, length 39, pointer 4
        options[1] = 39;
        options[2] = 4;
        byte[] packet = PacketBuilder.Ipv4(IpProtocol.Tcp, PacketBuilder.Tcp(), new Ipv4Spec { Options = options });
        Assert.Equal(PacketDropReason.None, Ipv4Header.TryCreate(packet, out Ipv4Header ip));
        Assert.Equal(60, ip.HeaderLength);
        Assert.True(ip.IsHeaderChecksumValid());
    }

    [Fact]
    public void TypeOfServiceSplitsIntoDscpAndEcn()
    {
        byte[] packet = PacketBuilder.Ipv4(IpProtocol.Udp, PacketBuilder.Udp(), new Ipv4Spec { TypeOfService = 0xB9 });
        Assert.Equal(PacketDropReason.None, Ipv4Header.TryCreate(packet, out Ipv4Header ip));
        Assert.Equal(46, ip.Dscp);
        Assert.Equal(1, ip.Ecn);
    }

    [Fact]
    public void BadHeaderChecksumIsReportedButNotRefused()
    {
        byte[] packet = GoldenPackets.Bytes(GoldenPackets.V4TcpSyn);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(10), 0xdead);
        Assert.Equal(PacketDropReason.None, Ipv4Header.TryCreate(packet, out Ipv4Header ip));
        Assert.False(ip.IsHeaderChecksumValid());
        Assert.Equal(0x3c5d, Ipv4Header.ComputeHeaderChecksum(ip.Header));
    }
}
