using XenVmc.Dom0;
using XenVmc.Platform.Firewall;
using XenVmc.Tests.Platform.Firewall;

namespace XenVmc.Tests.Dom0;

/// <summary>How the tools' answers become a filter view: failures and legacy rules hold every pair, a missing nft means no nftables filter.</summary>
public sealed class Dom0FilterWatchTests
{
    private static readonly (string, ToolResult, bool)[] NoLegacy = [];

    [Fact]
    public void NftMissing_IsNoFilter_NftFailing_HoldsEverything()
    {
        Assert.Empty(Dom0FilterWatch.Build(ToolResult.Missing, default, NoLegacy, ToolResult.Missing).Unanalysed);
        var failed = Dom0FilterWatch.Build(new ToolResult(true, null, "nft gave no answer within 5 s"), default, NoLegacy, ToolResult.Missing);
        Assert.Equal(["nft -j list ruleset failed: nft gave no answer within 5 s"], failed.Unanalysed);
        Assert.Single(Dom0FilterWatch.Build(new ToolResult(true, "garbage", null), default, NoLegacy, ToolResult.Missing).Unanalysed);
        Assert.Equal(5, Dom0FilterWatch.Build(new ToolResult(true, NftJsonTests.GoldenText("nft-dom0.json"), null), default, NoLegacy, ToolResult.Missing).Nft.Chains.Count);
    }

    [Fact]
    public void LegacyRules_HoldEverything_WhenTheyCanSeeBridgedTraffic()
    {
        const string save = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:DOCKER - [0:0]\n-A FORWARD -p tcp --dport 22 -j DROP\nCOMMIT\n";
        var seen = Dom0FilterWatch.Build(ToolResult.Missing, new(true, false, false), [("iptables-legacy-save", new ToolResult(true, save, null), true)], ToolResult.Missing);
        Assert.Equal(["iptables-legacy-save: rule '-A FORWARD -p tcp --dport 22 -j DROP' (legacy rules are not analysed)"], seen.Unanalysed);
        Assert.Empty(Dom0FilterWatch.Build(ToolResult.Missing, default, [("iptables-legacy-save", new ToolResult(true, save, null), false)], ToolResult.Missing).Unanalysed);
        Assert.Null(Dom0FilterWatch.LegacyFilters("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:USER - [0:0]\nCOMMIT\n"));
        Assert.Equal("chain policy ':FORWARD DROP'", Dom0FilterWatch.LegacyFilters("*filter\n:INPUT ACCEPT\n:FORWARD DROP\n"));
    }

    [Fact]
    public void OvsBridges_AreListed()
    {
        var view = Dom0FilterWatch.Build(ToolResult.Missing, default, NoLegacy, new ToolResult(true, "xenbr0\novsbr1\n", null));
        Assert.Equal(["ovsbr1", "xenbr0"], view.OvsBridges.Order());
    }
}
