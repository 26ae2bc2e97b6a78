using XenVmc.Dom0;
using XenVmc.Platform.Layout;

namespace XenVmc.Tests.Dom0;

/// <summary>
/// Which networks Dom0 grants each guest: the vif's ip key (host addresses and prefixes, as xl's
/// ip= writes them) plus its own configuration; nested prefixes to different guests are published
/// (the more specific wins at the guests), the same network to two guests is published to neither.
/// </summary>
public sealed class GrantsTests
{
    [Fact]
    public void PrefixesInTheVifIpKey_ArePublishedWhole_NeverAsHostAddresses()
    {
        var tables = PairingPolicy.Compute(
        [
            Guest(1, "198.18.0.1 fd00:198:18::1"),
            Guest(2, "198.18.0.2 fd00:198:18::2 10.244.2.0/24 fd00:244:2::/64"),
        ]);

        Assert.Equal("198.18.0.2 fd00:198:18::2 10.244.2.0/24 fd00:244:2::/64", tables[1][2].AddressText);
        Assert.Equal("198.18.0.1 fd00:198:18::1", tables[2][1].AddressText);
    }

    [Fact]
    public void TheSameNetworkForTwoGuests_IsPublishedToNeither_AndSaidWhy()
    {
        GuestInfo[] guests = [Guest(1, "198.18.0.1 10.244.0.0/24"), Guest(2, "198.18.0.2 10.244.0.0/24"), Guest(3, "198.18.0.3")];
        var grants = Grants.Compute(guests, PairingRules.Default);
        var tables = PairingPolicy.Compute(guests, PairingRules.Default, grants);

        Assert.Equal("198.18.0.2", tables[1][2].AddressText);
        Assert.Equal("198.18.0.1", tables[3][1].AddressText);
        Assert.Equal("198.18.0.2", tables[3][2].AddressText);
        Assert.Equal(["198.18.0.1"], grants.All(1).Select(p => p.ToString()));
        Assert.Equal("10.244.0.0/24 is granted to domains 1, 2: published to none of them", Assert.Single(grants.Conflicts));
    }

    [Fact]
    public void NestedNetworksOfDifferentGuests_AreBothPublished_TheMoreSpecificWinsAtTheGuests()
    {
        GuestInfo[] guests = [Guest(1, "198.18.0.1"), Guest(2, "198.18.0.2 10.244.0.0/16"), Guest(3, "198.18.0.3 10.244.3.0/24")];
        var grants = Grants.Compute(guests, PairingRules.Default);
        var tables = PairingPolicy.Compute(guests, PairingRules.Default, grants);

        Assert.Empty(grants.Conflicts);
        Assert.Equal("198.18.0.2 10.244.0.0/16", tables[1][2].AddressText);
        Assert.Equal("198.18.0.3 10.244.3.0/24", tables[1][3].AddressText);
    }

    [Fact]
    public void PrefixesFromConfiguration_JoinTheVifs_ByDomainNameOrDomid()
    {
        var rules = new PairingRules
        {
            Prefixes = new Dictionary<string, IReadOnlyList<IpPrefix>>
            {
                ["node2"] = [Prefix("10.244.2.0/24")],
                ["3"] = [Prefix("fd00:244:3::/64")],
                ["absent"] = [Prefix("10.244.9.0/24")],
            },
        };
        GuestInfo[] guests = [Guest(1, "198.18.0.1"), Guest(2, "198.18.0.2") with { Name = "node2" }, Guest(3, "198.18.0.3")];
        var grants = Grants.Compute(guests, rules);
        var tables = PairingPolicy.Compute(guests, rules, grants);

        Assert.Equal("198.18.0.2 10.244.2.0/24", tables[1][2].AddressText);
        Assert.Equal("198.18.0.3 fd00:244:3::/64", tables[1][3].AddressText);
        Assert.Equal("198.18.0.2 10.244.2.0/24", string.Join(' ', grants.All(2)));
    }

    [Fact]
    public void AGuestWithoutAGrantedVif_GetsNoConfiguredPrefixEither()
    {
        var rules = new PairingRules { Prefixes = new Dictionary<string, IReadOnlyList<IpPrefix>> { ["2"] = [Prefix("10.244.2.0/24")] } };
        GuestInfo[] guests = [Guest(1, "198.18.0.1"), new GuestInfo(2, [new VifBackend(2, 0, "xenbr0", [], "00:16:3e:00:00:02", Online: true)], true, true)];

        Assert.Empty(Grants.Compute(guests, rules).All(2));
        Assert.Empty(PairingPolicy.Compute(guests, rules)[1]);
    }

    private static IpPrefix Prefix(string text)
    {
        Assert.True(PeerTableEntry.TryParseAddresses(text, out var list, out string? error), error);
        return Assert.Single(list);
    }

    private static GuestInfo Guest(ushort domid, string ip)
    {
        Assert.True(PeerTableEntry.TryParseAddresses(ip, out var addresses, out string? error), error);
        return new GuestInfo(domid, [new VifBackend(domid, 0, "xenbr0", addresses, $"00:16:3e:00:00:{domid:x2}", Online: true)], Introduced: true, Ready: true);
    }
}
