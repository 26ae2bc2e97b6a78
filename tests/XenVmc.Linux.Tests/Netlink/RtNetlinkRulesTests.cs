using System.Net;
using Xunit;

namespace XenVmc.Linux.Tests;

/// <summary>Policy-routing rules through rtnetlink, checked against what iproute2 shows and against the kernel's IPv4 route choice (IPv6's, with FIB_RULE_FIND_SADDR, is checked on the simulated host: BypassTests).</summary>
public class RtNetlinkRulesTests
{
    private const byte OurProtocol = 86;

    [Fact]
    public void Rules_AreAddedListedAndFlushedByProtocol_AndSteerLookups() => NetnsThread.Run(() =>
    {
        using RtNetlink rtnl = RtNetlink.Open();
        using TunDevice tun = TunTestKit.OpenUp(rtnl, "xvmcA", "198.18.0.1");
        rtnl.AddAddress(tun.IfIndex, IPAddress.Parse("fd00:198:18::1"), 64);
        var granted = new RuleSpec(IPAddress.Parse("198.18.0.1"), 32, 86, 86, OurProtocol);
        var unbound = new RuleSpec(IPAddress.Any, 32, 86, 86, OurProtocol, "lo");
        var granted6 = new RuleSpec(IPAddress.Parse("fd00:198:18::1"), 128, 86, 86, OurProtocol, FindSource: true);
        var theirs = new RuleSpec(IPAddress.Parse("198.18.9.0"), 24, 1000, 90, 4);
        foreach (var rule in new[] { granted, unbound, granted6, theirs })
        {
            rtnl.AddRule(rule);
        }

        rtnl.AddRule(granted); // already there: not an error
        Assert.Equal([granted, unbound, granted6], rtnl.ListRules(OurProtocol));
        string shown = Ip.Run("rule", "show") + Ip.Run("-6", "rule", "show");
        Assert.Contains("86:\tfrom 198.18.0.1 lookup 86 proto 86", shown, StringComparison.Ordinal);
        Assert.Contains("86:\tfrom 0.0.0.0 iif lo lookup 86 proto 86", shown, StringComparison.Ordinal);
        Assert.Contains("86:\tfrom fd00:198:18::1 lookup 86 proto 86", shown, StringComparison.Ordinal);

        // A route in table 86: a lookup from the granted source and an unbound one find it, another source does not.
        rtnl.AddRoute(new RouteSpec(IPAddress.Parse("198.18.7.2"), 32, tun.IfIndex, IPAddress.Parse("198.18.0.1"), OurProtocol, Table: 86));
        Assert.Contains("table 86", Ip.Run("route", "get", "198.18.7.2"), StringComparison.Ordinal);
        Assert.Contains("table 86", Ip.Run("route", "get", "198.18.7.2", "from", "198.18.0.1"), StringComparison.Ordinal);

        Assert.Equal(3, rtnl.FlushRules(OurProtocol));
        Assert.Empty(rtnl.ListRules(OurProtocol));
        Assert.Equal([theirs], rtnl.ListRules(4));
        Assert.False(rtnl.DeleteRule(granted));
        Assert.Equal(1, rtnl.FlushRoutes(OurProtocol));
    });
}
