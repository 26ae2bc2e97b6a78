using System.Net;
using XenVmc.Dom0;
using XenVmc.Platform.Layout;

namespace XenVmc.Tests.Dom0;

/// <summary>Who may pair with whom: only guests on a shared bridge, and only with the addresses of their vifs on it.</summary>
public sealed class PairingPolicyTests
{
    [Fact]
    public void SameBridge_Pairs_WithEachOthersAddressesAndMac()
    {
        var tables = PairingPolicy.Compute(
        [
            Guest(1, Vif(1, "xenbr0", "198.18.0.1 fd00::1", "00:16:3e:00:00:01")),
            Guest(2, Vif(2, "xenbr0", "198.18.0.2", "00:16:3e:00:00:02")),
        ]);

        AssertTable(tables, 1, (2, "198.18.0.2", "00:16:3e:00:00:02"));
        AssertTable(tables, 2, (1, "198.18.0.1 fd00::1", "00:16:3e:00:00:01"));
    }

    [Fact]
    public void DifferentBridges_DoNotPair_ButEachGuestHasAnEmptyTable()
    {
        var tables = PairingPolicy.Compute(
        [
            Guest(1, Vif(1, "xenbr0", "198.18.0.1")),
            Guest(2, Vif(2, "xenbr1", "198.18.1.2")),
            Guest(3, Vif(3, "xenbr0", "198.18.0.3")),
        ]);

        AssertTable(tables, 1, (3, "198.18.0.3", Mac(3)));
        AssertTable(tables, 2);
        AssertTable(tables, 3, (1, "198.18.0.1", Mac(1)));
    }

    [Fact]
    public void NotReadyGuest_IsInNobodysTable_AndHasAnEmptyOne()
    {
        var tables = PairingPolicy.Compute(
        [
            Guest(1, Vif(1, "xenbr0", "198.18.0.1")),
            Guest(2, Vif(2, "xenbr0", "198.18.0.2")) with { Ready = false },
            Guest(3, Vif(3, "xenbr0", "198.18.0.3")),
        ]);

        AssertTable(tables, 1, (3, "198.18.0.3", Mac(3)));
        AssertTable(tables, 2);
        AssertTable(tables, 3, (1, "198.18.0.1", Mac(1)));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void NotIntroducedGuest_IsInNoTable_AndHasNone(bool ready)
    {
        var tables = PairingPolicy.Compute(
        [
            Guest(1, Vif(1, "xenbr0", "198.18.0.1")),
            Guest(2, Vif(2, "xenbr0", "198.18.0.2")) with { Introduced = false, Ready = ready },
        ]);

        Assert.False(tables.ContainsKey(2), "a domain the store does not know gets no table");
        AssertTable(tables, 1);
    }

    [Fact]
    public void OfflineVif_DoesNotPair()
    {
        var tables = PairingPolicy.Compute(
        [
            Guest(1, Vif(1, "xenbr0", "198.18.0.1")),
            Guest(2, Vif(2, "xenbr0", "198.18.0.2") with { Online = false }),
        ]);

        AssertTable(tables, 1);
        AssertTable(tables, 2);
    }

    [Fact]
    public void GuestWithVifsOnTwoBridges_PairsWithBothGroups_WithTheAddressOfTheSharedBridge()
    {
        var tables = PairingPolicy.Compute(
        [
            Guest(1, Vif(1, "xenbr0", "198.18.0.1")),
            Guest(2, Vif(2, "xenbr1", "198.18.1.2")),
            Guest(5, Vif(5, "xenbr0", "198.18.0.5", "00:16:3e:00:00:50"), Vif(5, "xenbr1", "198.18.1.5", "00:16:3e:00:00:51", devid: 1u)),
        ]);

        AssertTable(tables, 1, (5, "198.18.0.5", "00:16:3e:00:00:50"));
        AssertTable(tables, 2, (5, "198.18.1.5", "00:16:3e:00:00:51"));
        AssertTable(tables, 5, (1, "198.18.0.1", Mac(1)), (2, "198.18.1.2", Mac(2)));
    }

    [Fact]
    public void TwoVifsOnTheSharedBridge_GiveAllTheirAddresses_Once()
    {
        var tables = PairingPolicy.Compute(
        [
            Guest(1, Vif(1, "xenbr0", "198.18.0.1")),
            Guest(2, Vif(2, "xenbr0", "198.18.0.2 198.18.0.22"), Vif(2, "xenbr0", "198.18.0.22 198.18.0.23", devid: 1), Vif(2, "xenbr9", "10.9.9.9", devid: 2)),
        ]);

        AssertTable(tables, 1, (2, "198.18.0.2 198.18.0.22 198.18.0.23", Mac(2)));
    }

    [Fact]
    public void AddressesFromManyVifs_AreCappedAtTheTableLimit()
    {
        var vifs = Enumerable.Range(0, 3)
            .Select(devid => Vif(2, "xenbr0", string.Join(' ', Enumerable.Range(1, 10).Select(i => $"198.18.{devid}.{i}")), devid: (uint)devid))
            .ToArray();
        var tables = PairingPolicy.Compute([Guest(1, Vif(1, "xenbr0", "198.18.9.1")), Guest(2, vifs)]);

        Assert.Equal(PeerTableEntry.MaxAddresses, tables[1][2].Addresses.Count);
    }

    [Fact]
    public void VifWithoutAnAddress_IsNotListed_ForLackOfARoute()
    {
        var tables = PairingPolicy.Compute(
        [
            Guest(1, Vif(1, "xenbr0", "198.18.0.1")),
            Guest(2, Vif(2, "xenbr0", null)),
        ]);

        Assert.False(tables[1].ContainsKey(2), "Dom0 knows no address of domain 2 to route by");
    }

    [Fact]
    public void Pairing_IsSymmetric()
    {
        // A guest listed on one side only negotiates with a peer that never hears of it.
        var guests = new[]
        {
            Guest(1, Vif(1, "xenbr0", "198.18.0.1")),
            Guest(2, Vif(2, "xenbr0", null)),
            Guest(3, Vif(3, "xenbr0", "198.18.0.3"), Vif(3, "xenbr1", null, devid: 1)),
            Guest(4, Vif(4, "xenbr1", "198.18.1.4")),
        };
        var tables = PairingPolicy.Compute(guests);

        foreach (var (domid, table) in tables)
        {
            foreach (ushort peer in table.Keys)
            {
                Assert.True(tables[peer].ContainsKey(domid), $"domain {domid} lists {peer}, but {peer} does not list {domid}");
            }
        }
    }

    [Fact]
    public void NoGuests_NoTables() => Assert.Empty(PairingPolicy.Compute([]));

    private static GuestInfo Guest(ushort domid, params VifBackend[] vifs) => new(domid, vifs, Introduced: true, Ready: true);

    private static VifBackend Vif(ushort domid, string bridge, string? ip, string? mac = null, uint devid = 0)
    {
        IReadOnlyList<IpPrefix> addresses = [];
        if (ip is not null)
        {
            Assert.True(PeerTableEntry.TryParseAddresses(ip, out addresses, out string? error), error);
        }

        return new VifBackend(domid, devid, bridge, addresses, mac ?? Mac(domid), Online: true);
    }

    private static string Mac(ushort domid) => $"00:16:3e:00:00:{domid:x2}";

    private static void AssertTable(Dictionary<ushort, Dictionary<ushort, PeerTableEntry>> tables, ushort domid, params (ushort Peer, string Ip, string Mac)[] expected)
    {
        Assert.True(tables.TryGetValue(domid, out var table), $"domain {domid} has no table");
        Assert.Equal(expected.Select(e => e.Peer).Order(), table.Keys.Order());
        foreach (var (peer, ip, mac) in expected)
        {
            var entry = table[peer];
            Assert.Equal(peer, entry.Domid);
            Assert.Equal(ip, entry.AddressText);
            Assert.Equal(mac, entry.Mac);
        }
    }
}
