using System.Net;
using System.Text;
using XenVmc.Platform.Layout;

namespace XenVmc.Tests.Platform.Layout;

/// <summary>
/// The vif backend's <c>ip</c> value and the peer table's <c>mac</c>: text from outside the
/// daemon, so every good form is taken apart exactly and every bad one refused, never thrown at.
/// </summary>
public sealed class PeerTableEntryTests
{
    public static TheoryData<string, string[]> GoodAddressLists => new()
    {
        { "198.18.0.1", ["198.18.0.1"] },
        { "198.18.0.1 fd00::1", ["198.18.0.1", "fd00::1"] },
        { "  198.18.0.1    198.18.0.2  ", ["198.18.0.1", "198.18.0.2"] },
        { "198.18.0.0/24", ["198.18.0.0/24"] },
        { "fd00::1/128 198.18.0.1/32", ["fd00::1", "198.18.0.1"] },
        { "198.18.0.1 198.18.0.1", ["198.18.0.1"] },
        { "198.18.0.1 198.18.0.1/32 198.18.0.2", ["198.18.0.1", "198.18.0.2"] },
        { "198.18.0.2 fd00:198:18::2 10.244.2.0/24 fd00:244:2::/64", ["198.18.0.2", "fd00:198:18::2", "10.244.2.0/24", "fd00:244:2::/64"] },
        { "10.0.0.0/8 10.244.0.0/16 10.244.2.128/25", ["10.0.0.0/8", "10.244.0.0/16", "10.244.2.128/25"] },
        { "10.244.2.0/24 10.244.2.0/25", ["10.244.2.0/24", "10.244.2.0/25"] },
        { "FD00::1 fd00:0::1 fd00::0:1", ["fd00::1"] },
        { "2001:db8::5 10.0.0.1", ["2001:db8::5", "10.0.0.1"] },
        { "1.2.3.4", ["1.2.3.4"] },
        { "223.255.255.254", ["223.255.255.254"] },
        { "fe80::1", ["fe80::1"] },
    };

    public static TheoryData<string?> BadAddressLists => new()
    {
        null,
        "",
        " ",
        "   \t ",
        "10",                    // IPAddress.TryParse would take these shorthands as 0.0.0.10, 10.0.0.1
        "10.1",
        "10.1.2",
        "4294967295",
        "0x0a.0.0.1",
        "1.2.3.256",
        "1.2.3.4.5",
        "1..2.3",
        "127.0.0.1",
        "127.1.2.3",
        "::1",
        "0.0.0.0",
        "::",
        "224.0.0.1",
        "239.255.255.250",
        "255.255.255.255",
        "ff02::1",
        "ff05::1:3",
        "not-an-ip",
        "198.18.0.1 not-an-ip",
        "198.18.0.1 127.0.0.1",
        "198.18.0.1,198.18.0.2",
        "198.18.0.1\t198.18.0.2",
        "198.18.0.1\n",
        "\u0661\u0660.\u0660.\u0660.\u0661",  // Arabic-Indic digits match \d but are no address
        "fd00::1::2",
        "/24",
        "fe80::1%eth0",          // a zone: IPAddress.TryParse keeps it, inet_pton and routes do not
        "fe80::1%4",
        "[fd00::1]",
        "918::98.18.0.02",       // a leading zero in an embedded IPv4 part: inet_pton refuses it
        "64:ff9b::1.2.3",
        "198.18.0.1/24",         // host bits set: neither the host nor the network is what was meant for sure
        "10.244.2.5/24",
        "fd00::1/64",
        "198.18.0.0/33",
        "fd00::/129",
        "198.18.0.0/024",
        "198.18.0.0/",
        "198.18.0.0/-1",
        "198.18.0.0/ 24",
        "0.0.0.0/0",             // the default route, loopback and multicast are no peer's network
        "64.0.0.0/2",
        "127.0.0.0/8",
        "224.0.0.0/4",
        "ff00::/8",
        "fc00::/7",
        "::/0",
    };

    [Theory]
    [MemberData(nameof(GoodAddressLists))]
    public void TryParseAddresses_Good(string text, string[] expected)
    {
        Assert.True(PeerTableEntry.TryParseAddresses(text, out var addresses, out string? error), error);

        Assert.Null(error);
        Assert.Equal(expected, addresses.Select(a => a.ToString()));
    }

    [Theory]
    [MemberData(nameof(BadAddressLists))]
    public void TryParseAddresses_Bad(string? text)
    {
        Assert.False(PeerTableEntry.TryParseAddresses(text, out var addresses, out string? error));

        Assert.Empty(addresses);
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void TryParseAddresses_AnOctetWithALeadingZero_IsNeverReadAsOctal()
    {
        // "010.0.0.1": inet_pton (ip, iproute2) refuses it; IPAddress.TryParse reads it as 8.0.0.1.
        bool parsed = PeerTableEntry.TryParseAddresses("010.0.0.1", out var addresses, out _);

        Assert.True(!parsed || addresses.SequenceEqual([IPAddress.Parse("10.0.0.1")]), $"parsed as {string.Join(' ', addresses)}");
    }

    [Fact]
    public void TryParseAddresses_Ipv4MappedFormsOfRefusedAddresses_AreRefused()
    {
        Assert.False(PeerTableEntry.TryParseAddresses("::ffff:127.0.0.1", out _, out _));
        Assert.False(PeerTableEntry.TryParseAddresses("::ffff:224.0.0.1", out _, out _), "IPv4-mapped multicast");
        Assert.False(PeerTableEntry.TryParseAddresses("::ffff:255.255.255.255", out _, out _), "IPv4-mapped broadcast");
    }

    [Fact]
    public void TryParseAddresses_SixteenDistinctAddresses_AreTheLimit()
    {
        string sixteen = string.Join(' ', Enumerable.Range(1, PeerTableEntry.MaxAddresses).Select(i => $"198.18.0.{i}"));
        string seventeen = sixteen + " 198.18.0.17";
        string sixteenWithRepeats = sixteen + " " + sixteen + " 198.18.0.1/32";

        Assert.True(PeerTableEntry.TryParseAddresses(sixteen, out var list, out _));
        Assert.Equal(PeerTableEntry.MaxAddresses, list.Count);
        Assert.True(PeerTableEntry.TryParseAddresses(sixteenWithRepeats, out list, out _), "duplicates are folded before they are counted");
        Assert.Equal(PeerTableEntry.MaxAddresses, list.Count);
        Assert.False(PeerTableEntry.TryParseAddresses(seventeen, out list, out string? error));
        Assert.Empty(list);
        Assert.Contains("more than 16", error);
    }

    [Fact]
    public void TryParseAddresses_TextLongerThanTheLimit_IsRefusedWhateverItHolds()
    {
        string atLimit = "198.18.0.1".PadRight(PeerTableEntry.MaxValueLength);
        string overLimit = "198.18.0.1".PadRight(PeerTableEntry.MaxValueLength + 1);

        Assert.True(PeerTableEntry.TryParseAddresses(atLimit, out _, out _));
        Assert.False(PeerTableEntry.TryParseAddresses(overLimit, out _, out string? error));
        Assert.Contains("more than 1024", error);
        Assert.False(PeerTableEntry.TryParseAddresses(new string('1', 1_000_000), out _, out _));
    }

    [Fact]
    public void TryParseAddresses_RandomText_NeverThrows_AndWhatItAcceptsIsSane()
    {
        const string alphabet = "0123456789abcdefABCDEF.:/ %x-\t\n\u0661ff";
        var random = new Random(20240611);
        int accepted = 0;
        for (int i = 0; i < 20_000; i++)
        {
            string text = i % 3 == 0 ? RandomAddressLike(random) : RandomText(random, alphabet, random.Next(0, 80));

            bool ok = PeerTableEntry.TryParseAddresses(text, out var addresses, out string? error);

            if (!ok)
            {
                Assert.Empty(addresses);
                Assert.NotNull(error);
                continue;
            }

            accepted++;
            Assert.Null(error);
            Assert.InRange(addresses.Count, 1, PeerTableEntry.MaxAddresses);
            Assert.Equal(addresses.Count, addresses.Distinct().Count());
            foreach (var address in addresses.Select(a => a.Address))
            {
                Assert.False(IPAddress.IsLoopback(address), text);
                Assert.False(address.IsIPv6Multicast, text);
                Assert.False(address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any), text);
            }

            // What Dom0 writes back (AddressText) parses to the same list.
            var entry = new PeerTableEntry(1, addresses, "");
            Assert.True(PeerTableEntry.TryParseAddresses(entry.AddressText, out var again, out _), entry.AddressText);
            Assert.Equal(addresses, again);
        }

        Assert.True(accepted > 100, $"only {accepted} random address lists were accepted: the generator is not exercising the good path");
    }

    [Theory]
    [InlineData("00:16:3e:00:00:01")]
    [InlineData("fe:ff:ff:ff:ff:ff")]
    [InlineData("0a:1b:2c:3d:4e:5f")]
    public void IsValidMac_Good(string mac) => Assert.True(PeerTableEntry.IsValidMac(mac));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("00:16:3e:00:00")]
    [InlineData("00:16:3e:00:00:01:02")]
    [InlineData("00:16:3E:00:00:01")] // libxl writes lowercase (LIBXL_MAC_FMT)
    [InlineData("00-16-3e-00-00-01")]
    [InlineData("0016.3e00.0001")]
    [InlineData("00:16:3e:00:00:0g")]
    [InlineData(" 00:16:3e:00:00:01")]
    [InlineData("00:16:3e:00:00:01 ")]
    [InlineData("0:16:3e:00:00:01")]
    public void IsValidMac_Bad(string? mac) => Assert.False(PeerTableEntry.IsValidMac(mac));

    [Fact]
    public void IsValidMac_TrailingNewline_IsRefused()
    {
        // .NET's '$' also matches before a final '\n'.
        Assert.False(PeerTableEntry.IsValidMac("00:16:3e:00:00:01\n"));
    }

    [Fact]
    public void IsValidMac_RandomText_NeverThrows()
    {
        var random = new Random(11);
        for (int i = 0; i < 5_000; i++)
        {
            string text = RandomText(random, "0123456789abcdefABCDEF:-\n ", random.Next(0, 24));
            bool valid = PeerTableEntry.IsValidMac(text);
            if (valid)
            {
                Assert.Equal(17, text.TrimEnd('\n').Length);
            }
        }
    }

    [Fact]
    public void AddressText_IsSpaceSeparatedInOrder()
    {
        var entry = new PeerTableEntry(5, [IPAddress.Parse("198.18.0.5"), IPAddress.Parse("fd00::5")], "00:16:3e:00:00:05");

        Assert.Equal("198.18.0.5 fd00::5", entry.AddressText);
    }

    private static string RandomText(Random random, string alphabet, int length)
    {
        var text = new StringBuilder(length);
        for (int i = 0; i < length; i++)
        {
            text.Append(alphabet[random.Next(alphabet.Length)]);
        }

        return text.ToString();
    }

    private static string RandomAddressLike(Random random)
    {
        var parts = new List<string>();
        int count = random.Next(1, 20);
        for (int i = 0; i < count; i++)
        {
            string address = random.Next(3) switch
            {
                0 => $"{random.Next(0, 300)}.{random.Next(0, 300)}.{random.Next(0, 300)}.{random.Next(0, 300)}",
                1 => $"fd{random.Next(0, 256):x2}::{random.Next(0, 65536):x}",
                _ => $"10.0.{random.Next(0, 3)}.{random.Next(1, 4)}",
            };
            if (random.Next(4) == 0)
            {
                address += "/" + random.Next(0, 129).ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            parts.Add(address);
        }

        return string.Join(new string(' ', random.Next(1, 3)), parts);
    }
}
