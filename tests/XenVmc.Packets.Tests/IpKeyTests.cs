using System.Net;
using System.Net.Sockets;
using XenVmc.Packets;
using Xunit;

namespace XenVmc.Packets.Tests;

public class IpKeyTests
{
    [Fact]
    public void Ipv4IsStoredAsMappedIpv6()
    {
        IpKey key = IpKey.FromIPv4([198, 18, 0, 1]);
        Span<byte> bytes = stackalloc byte[16];
        key.WriteBytes(bytes);
        Assert.Equal("00000000000000000000ffffc6120001", Convert.ToHexStringLower(bytes));
        Assert.True(key.IsIPv4);
        Assert.Equal("198.18.0.1", key.ToString());
        Assert.Equal(AddressFamily.InterNetwork, key.ToIPAddress().AddressFamily);
    }

    [Fact]
    public void Ipv6RoundTrips()
    {
        byte[] address = IPAddress.Parse("2001:db8:1:2:3:4:5:6").GetAddressBytes();
        IpKey key = IpKey.FromIPv6(address);
        Assert.False(key.IsIPv4);
        Span<byte> bytes = stackalloc byte[16];
        key.WriteBytes(bytes);
        Assert.True(bytes.SequenceEqual(address));
        Assert.Equal("2001:db8:1:2:3:4:5:6", key.ToString());
        Assert.Equal(IPAddress.Parse("2001:db8:1:2:3:4:5:6"), key.ToIPAddress());
    }

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("198.18.0.2")]
    [InlineData("255.255.255.255")]
    [InlineData("::")]
    [InlineData("::1")]
    [InlineData("fe80::1")]
    [InlineData("2001:db8::ffff:0:1")]
    [InlineData("::fffe:0:1")]
    public void FromIPAddressRoundTrips(string text)
    {
        IPAddress address = IPAddress.Parse(text);
        IpKey key = IpKey.FromIPAddress(address);
        Assert.Equal(address, key.ToIPAddress());
        Assert.Equal(address.AddressFamily == AddressFamily.InterNetwork, key.IsIPv4);
    }

    [Fact]
    public void MappedIpv6EqualsIpv4()
    {
        IpKey v4 = IpKey.FromIPAddress(IPAddress.Parse("10.1.2.3"));
        IpKey mapped = IpKey.FromIPAddress(IPAddress.Parse("::ffff:10.1.2.3"));
        Assert.Equal(v4, mapped);
        Assert.True(v4 == mapped);
        Assert.Equal(v4.GetHashCode(), mapped.GetHashCode());
        Assert.True(mapped.IsIPv4);
    }

    [Fact]
    public void EqualityAndHashing()
    {
        IpKey a = IpKey.FromIPv4([10, 0, 0, 1]);
        IpKey b = IpKey.FromIPv4([10, 0, 0, 1]);
        IpKey c = IpKey.FromIPv4([10, 0, 0, 2]);
        Assert.True(a.Equals(b));
        Assert.True(a.Equals((object)b));
        Assert.False(a.Equals((object)"10.0.0.1"));
        Assert.True(a != c);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, default);
        Assert.Equal(IpKey.FromIPAddress(IPAddress.IPv6Any), default);
    }

    [Fact]
    public void HashCodesSpreadAcrossSequentialAddresses()
    {
        // Sequential IPv4 and IPv6 addresses (the common case: a /24 of guests) must not collide
        // in a small power-of-two table any more than random keys would.
        var buckets = new int[256];
        for (int i = 0; i < 65536; i++)
        {
            IpKey key = i % 2 == 0
                ? IpKey.FromIPv4([10, 0, (byte)(i >> 8), (byte)i])
                : IpKey.FromIPv6([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte)(i >> 8), (byte)i]);
            buckets[key.GetHashCode() & 255]++;
        }

        Assert.InRange(buckets.Min(), 150, 256);
        Assert.InRange(buckets.Max(), 256, 370);

        var distinct = new HashSet<int>();
        for (int i = 0; i < 65536; i++)
        {
            distinct.Add(IpKey.FromIPv4([10, 0, (byte)(i >> 8), (byte)i]).GetHashCode());
        }

        Assert.True(distinct.Count > 65000);
    }

    [Fact]
    public void DictionaryLookupByValue()
    {
        var table = new Dictionary<IpKey, string>
        {
            [IpKey.FromIPAddress(IPAddress.Parse("198.18.0.2"))] = "peer-2",
            [IpKey.FromIPAddress(IPAddress.Parse("fd00::2"))] = "peer-2-v6",
        };
        Assert.Equal("peer-2", table[IpKey.FromIPv4([198, 18, 0, 2])]);
        Assert.Equal("peer-2-v6", table[IpKey.FromIPv6(IPAddress.Parse("fd00::2").GetAddressBytes())]);
        Assert.False(table.ContainsKey(IpKey.FromIPv4([198, 18, 0, 3])));
    }

    [Fact]
    public void WrongLengthsThrow()
    {
        Assert.Throws<ArgumentException>(() => IpKey.FromIPv4(new byte[16]));
        Assert.Throws<ArgumentException>(() => IpKey.FromIPv6(new byte[4]));
        Assert.Throws<ArgumentNullException>(() => IpKey.FromIPAddress(null!));
    }
}
