using System.Net;
using XenVmc.Guest.DataPath;
using XenVmc.Packets;
using XenVmc.Platform.Layout;

namespace XenVmc.Tests.Guest.DataPath;

/// <summary>Longest-prefix match over host addresses and prefixes of both families, without allocating.</summary>
public sealed class PrefixTableTests
{
    private static readonly PrefixTable<string> Table = new(
    [
        (Prefix("198.18.0.2"), "g2"),
        (Prefix("10.244.0.0/16"), "g2"),
        (Prefix("10.244.3.0/24"), "g3"),
        (Prefix("10.244.3.128/25"), "g4"),
        (Prefix("fd00:244::/32"), "g2"),
        (Prefix("fd00:244:3::/64"), "g3"),
        (Prefix("fd00:198:18::3"), "g3"),
    ]);

    [Theory]
    [InlineData("198.18.0.2", "g2")]
    [InlineData("198.18.0.3", null)]
    [InlineData("10.244.9.9", "g2")]
    [InlineData("10.244.3.5", "g3")]
    [InlineData("10.244.3.127", "g3")]
    [InlineData("10.244.3.128", "g4")]
    [InlineData("10.245.0.1", null)]
    [InlineData("fd00:244:3::5", "g3")]
    [InlineData("fd00:244:4::5", "g2")]
    [InlineData("fd00:198:18::3", "g3")]
    [InlineData("fd00:198:18::2", null)]
    [InlineData("::ffff:10.244.3.5", "g3")]
    public void Lookup_FindsTheLongestMatch(string address, string? owner) =>
        Assert.Equal(owner, Table.Lookup(IpKey.FromIPAddress(IPAddress.Parse(address))));

    [Fact]
    public void Lookup_AllocatesNothing()
    {
        var keys = new[] { "10.244.3.200", "198.18.0.2", "fd00:244:9::1", "203.0.113.1" }.Select(a => IpKey.FromIPAddress(IPAddress.Parse(a))).ToArray();
        foreach (var key in keys)
        {
            Table.Lookup(key);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            Table.Lookup(keys[i & 3]);
        }

        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    [Fact]
    public void IpKeyHasPrefix_AgreesWithIpPrefixContains_OnRandomAddresses()
    {
        var random = new Random(22);
        byte[] bytes = new byte[4];
        for (int i = 0; i < 5000; i++)
        {
            random.NextBytes(bytes);
            int length = random.Next(8, 33);
            var network = Network(new IPAddress(bytes), length);
            random.NextBytes(bytes);
            var address = new IPAddress(bytes);
            bool expected = new IpPrefix(network, length).Contains(address);
            Assert.Equal(expected, IpKey.FromIPAddress(address).HasPrefix(IpKey.FromIPAddress(network), 96 + length));
        }
    }

    private static IPAddress Network(IPAddress address, int length)
    {
        byte[] b = address.GetAddressBytes();
        for (int bit = length; bit < b.Length * 8; bit++)
        {
            b[bit >> 3] &= (byte)~(0x80 >> (bit & 7));
        }

        return new IPAddress(b);
    }

    private static IpPrefix Prefix(string text)
    {
        Assert.True(PeerTableEntry.TryParseAddresses(text, out var list, out string? error), error);
        return Assert.Single(list);
    }
}
