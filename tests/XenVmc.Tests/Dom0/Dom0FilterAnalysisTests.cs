using System.Net;
using XenVmc.Dom0;
using XenVmc.Platform.Firewall;
using XenVmc.Platform.Layout;
using XenVmc.Tests.Platform.Firewall;

namespace XenVmc.Tests.Dom0;

/// <summary>Which Dom0 rules concern a pair of guests (198.18.0.1 on vif1.0 and 198.18.0.2 on vif2.0, bridge xenbr0), on golden nft listings.</summary>
public sealed class Dom0FilterAnalysisTests
{
    private static readonly PairEnd G1 = new([IPAddress.Parse("198.18.0.1"), IPAddress.Parse("fd00:198:18::1")], ["vif1.0"]);
    private static readonly PairEnd G2 = new([IPAddress.Parse("198.18.0.2"), IPAddress.Parse("fd00:198:18::2")], ["vif2.0"]);
    private static readonly string[] Xenbr0 = ["xenbr0"];
    private static readonly BridgeNetfilter Off = default;
    private static readonly BridgeNetfilter On = new(true, true, true);

    [Fact]
    public void Dom0Golden_NamesTheRuleThatDropsAPortBetweenThem()
    {
        Assert.Equal("nft rule bridge filt forward handle 4: ip daddr 198.18.0.2 tcp dport 5201 drop", Find("nft-dom0.json", Off, G1, G2));
        Assert.Equal("nft rule bridge filt forward handle 4: ip daddr 198.18.0.2 tcp dport 5201 drop", Find("nft-dom0.json", Off, G2, G1));
    }

    [Fact]
    public void Dom0Golden_RulesAboutOthers_DoNotConcernThem_ButAJumpIsFollowed()
    {
        // Guests .3 and .4: the port rule, 203.0.113.0/24, the set {.9, .10} and vif9.0 are not about them;
        // the jump to "sub" is followed, and its ip6 rule is about fd00:198:18::9 only.
        var g3 = new PairEnd([IPAddress.Parse("198.18.0.3")], ["vif3.0"]);
        var g4 = new PairEnd([IPAddress.Parse("198.18.0.4")], ["vif4.0"]);
        Assert.Null(Find("nft-dom0.json", Off, g3, g4));

        // Guest .9 is in the set @blocked; guest on vif9.0 is named by interface; fd00:198:18::9 is in the jumped-to chain.
        Assert.Equal("nft rule bridge filt forward handle 6: ip saddr @blocked counter drop", Find("nft-dom0.json", Off, new([IPAddress.Parse("198.18.0.9")], ["vif7.0"]), g4));
        Assert.Equal("nft rule bridge filt forward handle 7: iifname vif9.0 drop", Find("nft-dom0.json", Off, new([IPAddress.Parse("198.18.0.7")], ["vif9.0"]), g4));
        Assert.Equal("nft rule bridge filt sub handle 11: ip6 daddr fd00:198:18::9 udp dport { 53, 123 } drop", Find("nft-dom0.json", Off, new([IPAddress.Parse("fd00:198:18::9")], ["vif7.0"]), g4));
    }

    [Fact]
    public void ANetworkBehindAGuest_IsJudgedWhole()
    {
        // nft-dom0.json drops "ip daddr 203.0.113.0/24": a grant inside it or around it is concerned, one beside it is not.
        var g4 = new PairEnd([IPAddress.Parse("198.18.0.4")], ["vif4.0"]);
        PairEnd Behind(string network, int length) => new([IPAddress.Parse("198.18.0.3"), new IpPrefix(IPAddress.Parse(network), length)], ["vif3.0"]);

        Assert.Contains("ip daddr 203.0.113.0/24 drop", Find("nft-dom0.json", Off, g4, Behind("203.0.113.128", 25)));
        Assert.Contains("ip daddr 203.0.113.0/24 drop", Find("nft-dom0.json", Off, g4, Behind("203.0.112.0", 23)));
        Assert.Null(Find("nft-dom0.json", Off, g4, Behind("203.0.112.0", 24)));
    }

    [Fact]
    public void InetChains_CountOnlyWhenBridgeNetfilterCallsThem()
    {
        var g3 = new PairEnd([IPAddress.Parse("198.18.0.3")], ["vif3.0"]);
        var g4 = new PairEnd([IPAddress.Parse("198.18.0.4")], ["vif4.0"]);

        // nft-dom0.json also has an inet forward chain with policy drop, and a netdev ingress chain
        // whose device nft 1.0.6's JSON does not name (so it counts for every pair).
        var view = View(NftJsonTests.Golden("nft-dom0.json"), On);
        Assert.Equal("nft chain inet fw forward_guests: policy drop", Dom0FilterAnalysis.Find(view, g3, g4, Xenbr0));
        var chain = view.Nft.FindChain("inet", "fw", "forward_guests")!;
        Assert.False(Dom0FilterAnalysis.SeesBridgedTraffic(chain, Off, ["vif3.0", "vif4.0", "xenbr0"]));
        Assert.True(Dom0FilterAnalysis.SeesBridgedTraffic(chain, new(false, true, false), ["vif3.0", "vif4.0", "xenbr0"]));
        Assert.False(Dom0FilterAnalysis.SeesBridgedTraffic(view.Nft.FindChain("inet", "fw", "input_all")!, On, ["vif3.0"]));
        Assert.True(Dom0FilterAnalysis.SeesBridgedTraffic(view.Nft.FindChain("netdev", "ing", "lo_in")!, Off, ["vif3.0"]));
    }

    [Fact]
    public void OtherNetworksGolden_IntervalSetsNegatedPrefixesWildcards_LeaveThePairAlone_ExceptPolicies()
    {
        var ruleset = NftJsonTests.Golden("nft-other-networks.json");

        // Without the netdev chain (device unknown) and the inet policy drop (br_netfilter off), nothing concerns them:
        // @nets is 10.0.0.1-9 and 203.0.113.0/24, "daddr != 198.18.0.0/15" spares both, vif9.0 and tap* are others, input is local.
        var bridgeOnly = ruleset with { Chains = [.. ruleset.Chains.Where(c => c.Family == "bridge")] };
        Assert.Null(Dom0FilterAnalysis.Find(View(bridgeOnly, Off), G1, G2, Xenbr0));
        Assert.Null(Dom0FilterAnalysis.Find(View(ruleset with { Chains = [.. ruleset.Chains.Where(c => c.Family != "netdev")] }, Off), G1, G2, Xenbr0));
        Assert.Equal("nft chain inet host forward_all: policy drop", Dom0FilterAnalysis.Find(View(ruleset with { Chains = [.. ruleset.Chains.Where(c => c.Family != "netdev")] }, On), G1, G2, Xenbr0));
        Assert.Equal("nft chain netdev edge lo_in: policy drop", Dom0FilterAnalysis.Find(View(ruleset, Off), G1, G2, Xenbr0));

        // A guest inside those sets is concerned.
        Assert.Equal("nft rule bridge other pre handle 5: ip saddr @nets drop", Dom0FilterAnalysis.Find(View(bridgeOnly, Off), new([IPAddress.Parse("10.0.0.3")], ["vif5.0"]), G2, Xenbr0));
        Assert.Equal("nft rule bridge other forward_all handle 6: ip daddr != 198.18.0.0/15 drop", Dom0FilterAnalysis.Find(View(bridgeOnly, Off), new([IPAddress.Parse("192.0.2.5")], ["vif5.0"]), G2, Xenbr0));
        Assert.Equal("nft rule bridge other forward_all handle 8: oifname tap* drop", Dom0FilterAnalysis.Find(View(bridgeOnly, Off), new([IPAddress.Parse("198.18.0.5")], ["tap5.0"]), G2, Xenbr0));
    }

    [Theory]
    [InlineData("""{"match":{"op":"==","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":22}},{"drop":null}""", true)]
    [InlineData("""{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"daddr"}},"right":"@nosuchset"}},{"drop":null}""", true)]
    [InlineData("""{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"daddr"}},"right":"not-an-address"}},{"drop":null}""", true)]
    [InlineData("""{"match":{"op":"==","left":{"meta":{"key":"iif"}},"right":7}},{"drop":null}""", true)]
    [InlineData("""{"frobnicate":{}},{"accept":null}""", true)]
    [InlineData("""{"counter":null},{"mangle":{"key":{"meta":{"key":"mark"}},"value":1}}""", true)]
    [InlineData("""{"queue":{"num":1}}""", true)]
    [InlineData("""{"goto":{"target":"missing"}}""", true)]
    [InlineData("""{"match":{"op":"==","left":{"meta":{"key":"ibrname"}},"right":"xenbr0"}},{"reject":null}""", true)]
    [InlineData("""{"match":{"op":"==","left":{"meta":{"key":"ibrname"}},"right":"xenbr1"}},{"reject":null}""", false)]
    [InlineData("""{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"saddr"}},"right":{"set":["198.18.0.7",{"prefix":{"addr":"10.0.0.0","len":8}}]}}},{"drop":null}""", false)]
    [InlineData("""{"counter":{"packets":0,"bytes":0}},{"log":null},{"accept":null}""", false)]
    [InlineData("""{"match":{"op":"==","left":{"payload":{"protocol":"ip6","field":"daddr"}},"right":{"range":["fd00:198:18::1","fd00:198:18::ff"]}}},{"drop":null}""", true)]
    public void OneRule_InABridgeForwardChain(string expressions, bool concerns)
    {
        var ruleset = NftJson.Parse($$$"""
            {"nftables":[{"chain":{"family":"bridge","table":"t","name":"f","hook":"forward","policy":"accept"}},
            {"rule":{"family":"bridge","table":"t","chain":"f","handle":9,"expr":[{{{expressions}}}]}}]}
            """);
        string? reason = Dom0FilterAnalysis.Find(View(ruleset, Off), G1, G2, Xenbr0);
        Assert.Equal(concerns, reason is not null);
    }

    [Fact]
    public void UnanalysedFiltersAndOvsBridges_HoldEveryPair()
    {
        Assert.Equal("iptables-legacy-save: rule '-A FORWARD -j DROP' (legacy rules are not analysed)",
            Dom0FilterAnalysis.Find(Dom0FilterView.None with { Unanalysed = ["iptables-legacy-save: rule '-A FORWARD -j DROP' (legacy rules are not analysed)"] }, G1, G2, Xenbr0));
        Assert.Equal("Open vSwitch bridge xenbr0 (its flows are not analysed)", Dom0FilterAnalysis.Find(Dom0FilterView.None with { OvsBridges = new HashSet<string> { "xenbr0" } }, G1, G2, Xenbr0));
        Assert.Null(Dom0FilterAnalysis.Find(Dom0FilterView.None with { OvsBridges = new HashSet<string> { "ovsbr1" } }, G1, G2, Xenbr0));
    }

    private static string? Find(string golden, BridgeNetfilter brnf, PairEnd a, PairEnd b)
    {
        var ruleset = NftJsonTests.Golden(golden);

        // The golden's netdev chain is on lo, but nft's JSON does not say so: leave it out where the bridge rules are the point.
        return Dom0FilterAnalysis.Find(View(ruleset with { Chains = [.. ruleset.Chains.Where(c => c.Family != "netdev")] }, brnf), a, b, Xenbr0);
    }

    private static Dom0FilterView View(NftRuleset ruleset, BridgeNetfilter brnf) => Dom0FilterView.None with { Nft = ruleset, BridgeNf = brnf };
}
