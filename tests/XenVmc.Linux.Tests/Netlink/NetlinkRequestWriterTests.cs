using System.Buffers.Binary;
using System.Net;
using XenVmc.Linux.Interop;
using Xunit;

namespace XenVmc.Linux.Tests;

public class NetlinkRequestWriterTests
{
    [Fact]
    public void RouteReplace_Ipv4_GoldenBytes()
    {
        var route = new RouteSpec(IPAddress.Parse("198.18.0.2"), 32, 5, IPAddress.Parse("198.18.0.1"), Protocol: 86);
        var buffer = new byte[512];

        int length = RtNetlink.WriteRouteRequest(buffer, Libc.RTM_NEWROUTE, Libc.NLM_F_CREATE | Libc.NLM_F_REPLACE, 7, route);

        Assert.Equal(
            "3c000000" + "1800" + "0505" + "07000000" + "00000000" // nlmsghdr: len 60, RTM_NEWROUTE, REQUEST|ACK|REPLACE|CREATE, seq 7, pid 0
            + "02" + "20" + "00" + "00" + "fe" + "56" + "fd" + "01" + "00000000" // rtmsg: AF_INET /32, main, proto 86, scope link, unicast
            + "0800" + "0f00" + "fe000000" // RTA_TABLE 254
            + "0800" + "0100" + "c6120002" // RTA_DST 198.18.0.2
            + "0800" + "0400" + "05000000" // RTA_OIF 5
            + "0800" + "0700" + "c6120001", // RTA_PREFSRC 198.18.0.1
            Convert.ToHexStringLower(buffer, 0, length));
    }

    [Fact]
    public void RouteDelete_Ipv6WithGatewayMetricAndHighTable_GoldenBytes()
    {
        var route = new RouteSpec(IPAddress.Parse("2001:db8::2"), 128, 3, Protocol: 86, Metric: 0x0102, Table: 1000, Gateway: IPAddress.Parse("fe80::1"));
        var buffer = new byte[512];

        int length = RtNetlink.WriteRouteRequest(buffer, Libc.RTM_DELROUTE, 0, 0x01020304, route);

        Assert.Equal(
            "5c000000" + "1900" + "0500" + "04030201" + "00000000" // len 92, RTM_DELROUTE, REQUEST|ACK
            + "0a" + "80" + "00" + "00" + "00" + "56" + "ff" + "01" + "00000000" // AF_INET6 /128, table in RTA_TABLE, scope nowhere
            + "0800" + "0f00" + "e8030000" // RTA_TABLE 1000
            + "1400" + "0100" + "20010db8000000000000000000000002" // RTA_DST
            + "0800" + "0400" + "03000000" // RTA_OIF 3
            + "1400" + "0500" + "fe800000000000000000000000000001" // RTA_GATEWAY
            + "0800" + "0600" + "02010000", // RTA_PRIORITY 258
            Convert.ToHexStringLower(buffer, 0, length));
    }

    [Fact]
    public void AddressAdd_GoldenBytes()
    {
        var buffer = new byte[512];

        int length = RtNetlink.WriteAddressRequest(
            buffer, Libc.RTM_NEWADDR, Libc.NLM_F_CREATE | Libc.NLM_F_EXCL, 1, 4, IPAddress.Parse("198.18.0.1"), 24);

        Assert.Equal(
            "28000000" + "1400" + "0506" + "01000000" + "00000000" // len 40, RTM_NEWADDR, REQUEST|ACK|EXCL|CREATE
            + "02" + "18" + "00" + "00" + "04000000" // ifaddrmsg: AF_INET /24, flags 0, scope global, index 4
            + "0800" + "0200" + "c6120001" // IFA_LOCAL
            + "0800" + "0100" + "c6120001", // IFA_ADDRESS
            Convert.ToHexStringLower(buffer, 0, length));
    }

    [Fact]
    public void StringAttribute_IsNulTerminated_AndLengthExcludesPadding()
    {
        var buffer = new byte[64];
        var writer = new NetlinkRequestWriter(buffer, Libc.RTM_GETLINK, Libc.NLM_F_REQUEST, 1);
        writer.Append(new Libc.ifinfomsg());
        writer.AppendAttribute(Libc.IFLA_IFNAME, "vmc0");

        ReadOnlySpan<byte> request = writer.Finish();

        Assert.Equal(16 + 16 + 4 + 5, request.Length); // unpadded: "vmc0\0" is 5 bytes
        Assert.Equal("0900" + "0300" + "766d633000", Convert.ToHexStringLower(request[32..]));
    }

    [Fact]
    public void Overflow_IsRefused()
    {
        var buffer = new byte[40];
        var writer = new NetlinkRequestWriter(buffer, Libc.RTM_NEWROUTE, Libc.NLM_F_REQUEST, 1);
        writer.Append(new Libc.rtmsg());
        writer.AppendAttribute(Libc.RTA_OIF, 1u);
        bool refused = false;
        try
        {
            writer.AppendAttribute(Libc.RTA_PRIORITY, 1u);
        }
        catch (InvalidOperationException)
        {
            refused = true;
        }

        Assert.True(refused);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void RandomAttributes_RoundTripThroughTheReader_FourByteAligned(int seed)
    {
        var random = new Random(seed);
        var buffer = new byte[4096];
        var expected = new List<(ushort Type, byte[] Value)>();
        var writer = new NetlinkRequestWriter(buffer, Libc.RTM_NEWROUTE, Libc.NLM_F_REQUEST, (uint)seed);
        writer.Append(new Libc.rtmsg { rtm_family = 2 });
        int count = random.Next(1, 40);
        for (int i = 0; i < count; i++)
        {
            var value = new byte[random.Next(0, 38)];
            random.NextBytes(value);
            ushort type = (ushort)random.Next(1, 0x3FFF);
            writer.AppendAttribute(type, value);
            expected.Add((type, value));
        }

        byte[] request = writer.Finish().ToArray();

        Assert.Equal((uint)request.Length, BinaryPrimitives.ReadUInt32LittleEndian(request));
        var reader = new NetlinkMessageReader(request);
        Assert.True(reader.TryRead(out NetlinkMessage message));
        Assert.Equal((uint)seed, message.Sequence);
        NetlinkAttributeReader attributes = message.Attributes<Libc.rtmsg>();
        int offset = 16 + 12;
        foreach ((ushort type, byte[] value) in expected)
        {
            Assert.Equal(0, offset % 4);
            Assert.True(attributes.TryRead(out ushort readType, out ReadOnlySpan<byte> readValue));
            Assert.Equal(type, readType);
            Assert.Equal(value, readValue.ToArray());
            Assert.Equal(4 + value.Length, BinaryPrimitives.ReadUInt16LittleEndian(request.AsSpan(offset)));
            offset += (4 + value.Length + 3) & ~3;
        }

        Assert.False(attributes.TryRead(out _, out _));
        Assert.False(reader.TryRead(out _));
    }
}
