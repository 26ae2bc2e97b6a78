using System.Net;
using Microsoft.Extensions.Logging;
using XenVmc.Dom0;
using XenVmc.Platform.Firewall;
using XenVmc.Platform.Hosting;
using XenVmc.Platform.Layout;
using XenVmc.Tests.Support;

namespace XenVmc.Tests.Dom0;

/// <summary>dom0.json and its pairing policy: what each rule does to the peer tables, and the refusals.</summary>
public sealed class Dom0ConfigurationTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private Dom0Configuration Load(string? json, Dictionary<string, string>? environment = null, params string[] args)
    {
        string file = _dir.Combine("dom0.json");
        if (json is not null)
        {
            File.WriteAllText(file, json);
        }

        var cl = CommandLine.Parse(args, [.. Dom0Configuration.CommandLineKeys.Keys, "--config"], ["--verbose"]);
        return Dom0Configuration.Load(cl, environment ?? new Dictionary<string, string>(), file);
    }

    [Fact]
    public void Defaults_AreSameBridgeWithoutRestrictions()
    {
        var c = Load(null);
        Assert.Equal(PairingRules.SameBridge, c.Pairing.Mode);
        Assert.Empty(c.Pairing.Deny);
        Assert.Empty(c.Pairing.DenyPairs);
        Assert.Empty(c.Pairing.GroupMembers);
        Assert.Null(c.Store);
        Assert.Equal(LogLevel.Information, c.LogLevel);
    }

    [Fact]
    public void ShippedDefaultFile_Loads()
    {
        var cl = CommandLine.Parse(["--config", Path.Combine(RepoRoot.Path, "packaging", "etc", "xenvmc", "dom0.json")], ["--config"], []);
        var c = Dom0Configuration.Load(cl, new Dictionary<string, string>());
        Assert.Equal(PairingRules.SameBridge, c.Pairing.Mode);
        Assert.Empty(c.Pairing.Deny);
    }

    [Fact]
    public void FullPolicy_IsRead_AndEnvironmentAndCommandLineOverride()
    {
        string json = """
            {
              "Store": "/run/xenstored/socket",
              "Pairing": {
                "Mode": "groups",
                "Groups": { "web": [ "web1", "web2", "7" ], "db": [ "db1", "web1" ] },
                "Deny": [ "untrusted" ],
                "DenyPairs": [ [ "web2", "7" ] ],
                "Bridges": [ "xenbr0" ]
              }
            }
            """;
        var c = Load(json);
        Assert.Equal("/run/xenstored/socket", c.Store);
        Assert.Equal(PairingRules.Groups, c.Pairing.Mode);
        Assert.Equal(["7", "web1", "web2"], c.Pairing.GroupMembers["web"].Order());
        Assert.Equal(["untrusted"], c.Pairing.Deny);
        Assert.Equal([("web2", "7")], c.Pairing.DenyPairs);
        Assert.Equal(["xenbr0"], c.Pairing.Bridges);

        var overridden = Load(json, new() { ["XENVMC_DOM0_STORE"] = "/dev/xen/xenbus" }, "--pairing", "same-bridge");
        Assert.Equal("/dev/xen/xenbus", overridden.Store);
        Assert.Equal(PairingRules.SameBridge, overridden.Pairing.Mode);
    }

    [Theory]
    [InlineData("""{ "Pairing": { "Mode": "all" } }""", "option Pairing:Mode: 'all'", "same-bridge")]
    [InlineData("""{ "Pairing": { "Mode": "groups" } }""", "option Pairing:Mode: 'groups'", "at least one group")]
    [InlineData("""{ "Pairing": { "Mode": "groups", "Groups": { "g": [ "a" ] } } }""", "option Pairing:Groups:g: 'a'", "at least two guests")]
    [InlineData("""{ "Pairing": { "Deny": "web1" } }""", "option Pairing:Deny: 'web1'", "JSON list")]
    [InlineData("""{ "Pairing": { "Deny": [ "a b" ] } }""", "option Pairing:Deny:0: 'a b'", "without spaces")]
    [InlineData("""{ "Pairing": { "DenyPairs": [ [ "a" ] ] } }""", "option Pairing:DenyPairs:0", "exactly two guests")]
    [InlineData("""{ "Pairing": { "Groop": 1 } }""", "option Pairing:Groop", "Mode, Groups, Deny")]
    [InlineData("""{ "Pairing": { "IgnoreFilters": [ "web" ] } }""", "option Pairing:IgnoreFilters: 'web'", "names of groups under Pairing:Groups")]
    [InlineData("""{ "Pairing": { "IgnoreFilters": "web" } }""", "option Pairing:IgnoreFilters: 'web'", "JSON list")]
    [InlineData("""{ "Pairing": { "Prefixes": { "node2": [ "10.244.2.5/24" ] } } }""", "option Pairing:Prefixes:node2: '10.244.2.5/24'", "host bits set")]
    [InlineData("""{ "Pairing": { "Prefixes": { "node2": [ "10.244.2.0/33" ] } } }""", "option Pairing:Prefixes:node2", "CIDR form")]
    [InlineData("""{ "Pairing": { "Prefixes": { "node2": "10.244.2.0/24" } } }""", "option Pairing:Prefixes:node2", "JSON list")]
    [InlineData("""{ "Store": "xenstored" }""", "option Store: 'xenstored'", "absolute path")]
    [InlineData("""{ "LogLevel": "chatty" }""", "option LogLevel: 'chatty'", "Trace")]
    [InlineData("""{ "Peers": 1 }""", "option Peers", "allowed options: Store, PidFile, LogLevel, Pairing")]
    public void WrongValue_IsRefused_NamingOptionValueAndWhatIsAllowed(string json, string named, string allowed)
    {
        var e = Assert.Throws<ConfigurationException>(() => Load(json));
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
        Assert.Contains(allowed, e.Message, StringComparison.Ordinal);
    }

    // The rules applied: four guests on xenbr0 (1 web1, 2 web2, 3 db1, 4 untrusted) and one on xenbr1 (5 web3).
    private static readonly GuestInfo[] Guests =
    [
        Guest(1, "web1", "xenbr0"), Guest(2, "web2", "xenbr0"), Guest(3, "db1", "xenbr0"), Guest(4, "untrusted", "xenbr0"), Guest(5, "web3", "xenbr1"),
    ];

    [Fact]
    public void Default_PairsEveryoneOnTheSameBridge()
    {
        var tables = PairingPolicy.Compute(Guests, PairingRules.Default);
        AssertPeers(tables, 1, 2, 3, 4);
        AssertPeers(tables, 4, 1, 2, 3);
        AssertPeers(tables, 5);
    }

    [Fact]
    public void Groups_PairOnlyMembersOfACommonGroup_AndNeverAcrossBridges()
    {
        var rules = Load("""{ "Pairing": { "Mode": "groups", "Groups": { "web": [ "web1", "web2", "web3" ], "db": [ "3", "web1" ] } } }""").Pairing;
        var tables = PairingPolicy.Compute(Guests, rules);
        AssertPeers(tables, 1, 2, 3);
        AssertPeers(tables, 2, 1);
        AssertPeers(tables, 3, 1);
        AssertPeers(tables, 4);
        AssertPeers(tables, 5); // in group web, but alone on xenbr1: a group never connects bridges
    }

    [Fact]
    public void Deny_AndDenyPairs_AreMutual()
    {
        var rules = Load("""{ "Pairing": { "Deny": [ "untrusted" ], "DenyPairs": [ [ "web2", "3" ] ] } }""").Pairing;
        var tables = PairingPolicy.Compute(Guests, rules);
        AssertPeers(tables, 1, 2, 3);
        AssertPeers(tables, 2, 1);
        AssertPeers(tables, 3, 1);
        AssertPeers(tables, 4);
    }

    [Fact]
    public void Bridges_LimitWhichBridgesCount()
    {
        var rules = Load("""{ "Pairing": { "Bridges": [ "xenbr1" ] } }""").Pairing;
        var tables = PairingPolicy.Compute(Guests, rules);
        AssertPeers(tables, 1);
        AssertPeers(tables, 2);
    }

    [Fact]
    public void Dom0Filter_HoldsThePairsItConcerns_BothWays_UnlessTheirGroupIgnoresFilters()
    {
        // A bridge forward rule that drops one port towards db1 (198.18.0.3).
        var filter = Dom0FilterView.None with
        {
            Nft = NftJson.Parse("""
                {"nftables":[{"chain":{"family":"bridge","table":"t","name":"f","hook":"forward","policy":"accept"}},
                {"rule":{"family":"bridge","table":"t","chain":"f","handle":4,"expr":[
                  {"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"daddr"}},"right":"198.18.0.3"}},
                  {"match":{"op":"==","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":5432}},{"drop":null}]}}]}
                """),
        };
        var held = new Dictionary<ushort, Dictionary<ushort, string>>();
        var tables = PairingPolicy.Compute(Guests, PairingRules.Default, filter, held);
        AssertPeers(tables, 1, 2, 4);
        AssertPeers(tables, 3);
        AssertPeers(tables, 2, 1, 4);
        Assert.Equal<ushort>([1, 2, 3, 4], held.Keys.Order());
        Assert.Equal<ushort>([1, 2, 4], held[3].Keys.Order());
        Assert.Equal("nft rule bridge t f handle 4: ip daddr 198.18.0.3 tcp dport 5432 drop", held[1][3]);
        Assert.Equal(held[1][3], held[3][1]);

        // The operator's opt-out, per group: web1 and db1 pair again, untrusted stays held.
        var rules = Load("""{ "Pairing": { "Groups": { "db": [ "web1", "db1" ] }, "IgnoreFilters": [ "db" ] } }""").Pairing;
        held.Clear();
        tables = PairingPolicy.Compute(Guests, rules, filter, held);
        AssertPeers(tables, 3, 1);
        AssertPeers(tables, 1, 2, 3, 4);
        Assert.Equal<ushort>([2, 4], held[3].Keys.Order());
        Assert.False(held.ContainsKey(1));
    }

    private static GuestInfo Guest(ushort domid, string name, string bridge)
    {
        Assert.True(PeerTableEntry.TryParseAddresses($"198.18.0.{domid}", out var addresses, out _));
        var vif = new VifBackend(domid, 0, bridge, addresses, $"00:16:3e:00:00:{domid:x2}", Online: true);
        return new GuestInfo(domid, [vif], Introduced: true, Ready: true, name);
    }

    private static void AssertPeers(Dictionary<ushort, Dictionary<ushort, PeerTableEntry>> tables, ushort domid, params ushort[] peers) =>
        Assert.Equal(peers.Order(), tables[domid].Keys.Order());
}
