using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Xunit;

namespace XenVmc.Linux.Tests;

public class RtNetlinkTests
{
    private const byte OurProtocol = 86;
    private static readonly IPAddress Local = IPAddress.Parse("198.18.0.1");
    private static readonly IPAddress Peer = IPAddress.Parse("198.18.0.2");

    [Fact]
    public void ReplaceRoute_WithOurProtocol_IsListedAndShownByIproute2() => WithTun((rtnl, tun) =>
    {
        var route = new RouteSpec(Peer, 32, tun.IfIndex, Local, OurProtocol);

        rtnl.ReplaceRoute(route);

        Assert.Equal(route, Assert.Single(rtnl.ListRoutes(AddressFamily.InterNetwork, OurProtocol)));
        JsonElement shown = Assert.Single(Ip.Json("route", "show", "table", "main"), r => r.GetProperty("dst").GetString() == "198.18.0.2");
        Assert.Equal("xvmcA", shown.GetProperty("dev").GetString());
        Assert.Equal("86", shown.GetProperty("protocol").GetString());
        Assert.Equal("198.18.0.1", shown.GetProperty("prefsrc").GetString());
        Assert.Equal("link", shown.GetProperty("scope").GetString());
    });

    [Fact]
    public void ReplaceRoute_Twice_KeepsOneRouteWithTheNewAttributes() => WithTun((rtnl, tun) =>
    {
        rtnl.AddAddress(tun.IfIndex, IPAddress.Parse("198.18.0.3"), 32);
        rtnl.ReplaceRoute(new RouteSpec(Peer, 32, tun.IfIndex, Local, OurProtocol));
        rtnl.ReplaceRoute(new RouteSpec(Peer, 32, tun.IfIndex, Local, OurProtocol));
        var changed = new RouteSpec(Peer, 32, tun.IfIndex, IPAddress.Parse("198.18.0.3"), OurProtocol);

        rtnl.ReplaceRoute(changed);

        Assert.Equal(changed, Assert.Single(rtnl.ListRoutes(AddressFamily.InterNetwork, OurProtocol)));
    });

    [Fact]
    public void AddRoute_Existing_IsEexistNamingTheRoute() => WithTun((rtnl, tun) =>
    {
        var route = new RouteSpec(Peer, 32, tun.IfIndex, Local, OurProtocol);
        rtnl.AddRoute(route);

        var e = Assert.Throws<LinuxException>(() => rtnl.AddRoute(route));

        Assert.Equal("EEXIST", e.ErrnoName);
        Assert.StartsWith($"add route 198.18.0.2/32 dev #{tun.IfIndex} src 198.18.0.1 proto 86 table 254: File exists (EEXIST)", e.Message);
    });

    [Fact]
    public void DeleteRoute_ReturnsTrueThenFalse() => WithTun((rtnl, tun) =>
    {
        var route = new RouteSpec(Peer, 32, tun.IfIndex, Local, OurProtocol);
        rtnl.ReplaceRoute(route);

        Assert.True(rtnl.DeleteRoute(route));
        Assert.False(rtnl.DeleteRoute(route));
        Assert.Empty(rtnl.ListRoutes(AddressFamily.InterNetwork, OurProtocol));
        Assert.Empty(Ip.Json("route", "show", "table", "all", "proto", "86"));
    });

    [Fact]
    public void DeleteRoute_OnlyMatchesItsProtocol() => WithTun((rtnl, tun) =>
    {
        rtnl.ReplaceRoute(new RouteSpec(Peer, 32, tun.IfIndex, Protocol: 4));

        Assert.False(rtnl.DeleteRoute(new RouteSpec(Peer, 32, tun.IfIndex, Protocol: OurProtocol)));
        Assert.Single(rtnl.ListRoutes(AddressFamily.InterNetwork, 4));
    });

    [Fact]
    public void ReplaceRoute_OnMissingDevice_IsEnodevNamingTheRoute() => NetnsThread.Run(() =>
    {
        using RtNetlink rtnl = RtNetlink.Open();
        var route = new RouteSpec(Peer, 32, 9999, Protocol: OurProtocol);

        var e = Assert.Throws<LinuxException>(() => rtnl.ReplaceRoute(route));

        Assert.Equal("ENODEV", e.ErrnoName);
        Assert.Equal("replace route", e.Operation);
        Assert.Equal("198.18.0.2/32 dev #9999 proto 86 table 254", e.ObjectName);
        Assert.Contains("dev #9999", e.Message);
        // The kernel's delete path looks for a matching route and finds none: nothing to delete is not an error.
        Assert.False(rtnl.DeleteRoute(route));
    });

    [Fact]
    public void ReplaceRoute_WithSourceNotLocal_CarriesTheKernelsExplanation() => WithTun((rtnl, tun) =>
    {
        var e = Assert.Throws<LinuxException>(() =>
            rtnl.ReplaceRoute(new RouteSpec(Peer, 32, tun.IfIndex, IPAddress.Parse("203.0.113.9"), OurProtocol)));

        Assert.Equal("EINVAL", e.ErrnoName);
        Assert.Contains("203.0.113.9", e.Message);
        Assert.False(string.IsNullOrEmpty(e.KernelMessage));
        Assert.EndsWith($"; kernel: {e.KernelMessage}", e.Message);
    });

    [Fact]
    public void Ipv6HostRoute_IsReplacedListedAndDeleted() => WithTun((rtnl, tun) =>
    {
        var route = new RouteSpec(IPAddress.Parse("2001:db8::2"), 128, tun.IfIndex, Protocol: OurProtocol);

        rtnl.ReplaceRoute(route);
        rtnl.ReplaceRoute(route);

        // IPv6 turns metric 0 into 1024 (IP6_RT_PRIO_USER).
        Assert.Equal(route with { Metric = 1024 }, Assert.Single(rtnl.ListRoutes(AddressFamily.InterNetworkV6, OurProtocol)));
        JsonElement shown = Assert.Single(Ip.Json("-6", "route", "show", "table", "main"), r => r.GetProperty("dst").GetString() == "2001:db8::2");
        Assert.Equal("86", shown.GetProperty("protocol").GetString());
        Assert.Equal("xvmcA", shown.GetProperty("dev").GetString());
        Assert.True(rtnl.DeleteRoute(route));
        Assert.False(rtnl.DeleteRoute(route));
        Assert.Empty(rtnl.ListRoutes(AddressFamily.InterNetworkV6, OurProtocol));
    });

    [Fact]
    public void ListRoutes_FiltersByProtocolAndInterface() => NetnsThread.Run(() =>
    {
        using RtNetlink rtnl = RtNetlink.Open();
        using TunDevice a = TunTestKit.OpenUp(rtnl, "xvmcA");
        using TunDevice b = TunTestKit.OpenUp(rtnl, "xvmcB");
        var onA = new RouteSpec(IPAddress.Parse("198.18.0.2"), 32, a.IfIndex, Protocol: OurProtocol);
        var onB = new RouteSpec(IPAddress.Parse("198.18.0.3"), 32, b.IfIndex, Protocol: OurProtocol);
        var staticOnB = new RouteSpec(IPAddress.Parse("198.18.7.0"), 24, b.IfIndex, Protocol: 4, Metric: 10);
        var gatewayed = new RouteSpec(IPAddress.Parse("198.18.9.0"), 24, a.IfIndex, Protocol: OurProtocol, Gateway: IPAddress.Parse("198.18.0.2"));
        foreach (RouteSpec route in (RouteSpec[])[onA, onB, staticOnB, gatewayed])
        {
            rtnl.AddRoute(route);
        }

        Assert.Equal([onB], rtnl.ListRoutes(AddressFamily.InterNetwork, OurProtocol, b.IfIndex));
        Assert.Equal([onB, staticOnB], rtnl.ListRoutes(AddressFamily.InterNetwork, ifIndex: b.IfIndex).OrderBy(r => r.Protocol == 4));
        Assert.Equal([onA, gatewayed], rtnl.ListRoutes(AddressFamily.InterNetwork, OurProtocol, a.IfIndex));
        Assert.Equal([staticOnB], rtnl.ListRoutes(AddressFamily.InterNetwork, 4));
        Assert.Empty(rtnl.ListRoutes(AddressFamily.InterNetworkV6, OurProtocol));
        Assert.Throws<ArgumentException>(() => rtnl.ListRoutes(AddressFamily.Unix));
    });

    [Fact]
    public void FlushRoutes_RemovesOnlyOurProtocol_InEveryTableAndFamily() => WithTun((rtnl, tun) =>
    {
        var staticRoute = new RouteSpec(IPAddress.Parse("198.18.7.0"), 24, tun.IfIndex, Protocol: 4);
        rtnl.AddRoute(staticRoute);
        rtnl.AddRoute(new RouteSpec(IPAddress.Parse("198.18.0.2"), 32, tun.IfIndex, Local, OurProtocol));
        rtnl.AddRoute(new RouteSpec(IPAddress.Parse("198.18.0.3"), 32, tun.IfIndex, Local, OurProtocol, Metric: 7));
        rtnl.AddRoute(new RouteSpec(IPAddress.Parse("198.18.0.4"), 32, tun.IfIndex, Protocol: OurProtocol, Table: 1000));
        rtnl.AddRoute(new RouteSpec(IPAddress.Parse("2001:db8::2"), 128, tun.IfIndex, Protocol: OurProtocol));
        rtnl.AddRoute(new RouteSpec(IPAddress.Parse("2001:db8::3"), 128, tun.IfIndex, Protocol: 4));

        Assert.Equal(4, rtnl.FlushRoutes(OurProtocol));

        Assert.Empty(Ip.Json("route", "show", "table", "all", "proto", "86"));
        Assert.Empty(Ip.Json("-6", "route", "show", "table", "all", "proto", "86"));
        Assert.Equal([staticRoute], rtnl.ListRoutes(AddressFamily.InterNetwork, 4));
        Assert.Single(rtnl.ListRoutes(AddressFamily.InterNetworkV6, 4));
        Assert.Equal(0, rtnl.FlushRoutes(OurProtocol));
    });

    [Fact]
    public void ListRoutes_ManyRoutes_SpanSeveralDumpDatagrams() => WithTun((rtnl, tun) =>
    {
        for (int i = 0; i < 600; i++)
        {
            rtnl.AddRoute(new RouteSpec(new IPAddress([10, 77, (byte)(i >> 8), (byte)i]), 32, tun.IfIndex, Protocol: OurProtocol));
        }

        IReadOnlyList<RouteSpec> routes = rtnl.ListRoutes(AddressFamily.InterNetwork, OurProtocol);

        Assert.Equal(600, routes.Count);
        Assert.Equal(600, routes.Select(r => r.Destination).Distinct().Count());
        Assert.Equal(600, rtnl.FlushRoutes(OurProtocol));
    });

    [Fact]
    public void AddAddress_IsListed_DuplicateIsEexist_DeleteReportsPresence() => WithTun((rtnl, tun) =>
    {
        rtnl.SetLinkUp(1, true); // a new namespace's "lo" gets 127.0.0.1/8 once up
        rtnl.AddAddress(tun.IfIndex, IPAddress.Parse("198.18.5.1"), 24);
        rtnl.AddAddress(tun.IfIndex, IPAddress.Parse("2001:db8::1"), 64);

        IReadOnlyList<(int IfIndex, IPAddress Address, int PrefixLength)> addresses = rtnl.ListAddresses();
        Assert.Contains((tun.IfIndex, IPAddress.Parse("198.18.5.1"), 24), addresses);
        Assert.Contains((tun.IfIndex, IPAddress.Parse("2001:db8::1"), 64), addresses);
        Assert.Contains((tun.IfIndex, Local, 32), addresses);
        Assert.Contains((1, IPAddress.Loopback, 8), addresses);
        var e = Assert.Throws<LinuxException>(() => rtnl.AddAddress(tun.IfIndex, IPAddress.Parse("198.18.5.1"), 24));
        Assert.Equal("EEXIST", e.ErrnoName);
        Assert.Contains($"198.18.5.1/24 dev #{tun.IfIndex}", e.Message);

        Assert.True(rtnl.DeleteAddress(tun.IfIndex, IPAddress.Parse("198.18.5.1"), 24));
        Assert.False(rtnl.DeleteAddress(tun.IfIndex, IPAddress.Parse("198.18.5.1"), 24));
        Assert.DoesNotContain((tun.IfIndex, IPAddress.Parse("198.18.5.1"), 24), rtnl.ListAddresses());
    });

    [Fact]
    public void SetLinkUpAndMtu_AreSeenThroughIoctls_AndBadMtuIsEinval() => NetnsThread.Run(() =>
    {
        using RtNetlink rtnl = RtNetlink.Open();
        using TunDevice tun = TunDevice.Open("xvmcA", new TunOpenOptions());

        rtnl.SetLinkUp(tun.IfIndex, true);
        rtnl.SetMtu(tun.IfIndex, 65520);

        Assert.True(NetworkInterfaces.IsUp("xvmcA"));
        Assert.Equal(65520, NetworkInterfaces.GetMtu("xvmcA"));
        var e = Assert.Throws<LinuxException>(() => rtnl.SetMtu(tun.IfIndex, 70000));
        Assert.Equal("EINVAL", e.ErrnoName);
        Assert.Contains($"#{tun.IfIndex}", e.Message);
        rtnl.SetLinkUp(tun.IfIndex, false);
        Assert.False(NetworkInterfaces.IsUp("xvmcA"));
    });

    [Fact]
    public void GetLinkStatistics_OfMissingLink_IsEnodevNamingIt() => NetnsThread.Run(() =>
    {
        using RtNetlink rtnl = RtNetlink.Open();

        var e = Assert.Throws<LinuxException>(() => rtnl.GetLinkStatistics("nope0"));

        Assert.Equal("ENODEV", e.ErrnoName);
        Assert.StartsWith("get statistics of link 'nope0': No such device (ENODEV)", e.Message);
    });

    [Fact]
    public void GetLinkStatistics_Loopback_CountsPings() => NetnsThread.Run(() =>
    {
        using RtNetlink rtnl = RtNetlink.Open();
        rtnl.SetLinkUp(1, true);
        LinkStatistics before = rtnl.GetLinkStatistics("lo");
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.SendTo(new byte[50], socket.LocalEndPoint!);

        LinkStatistics after = rtnl.GetLinkStatistics(1);

        Assert.Equal(before.TxPackets + 1, after.TxPackets);
        Assert.Equal(before.RxPackets + 1, after.RxPackets);
        Assert.Equal(before.TxBytes + 50 + 28, after.TxBytes);
    });

    private static void WithTun(Action<RtNetlink, TunDevice> body) => NetnsThread.Run(() =>
    {
        using RtNetlink rtnl = RtNetlink.Open();
        using TunDevice tun = TunTestKit.OpenUp(rtnl, "xvmcA", "198.18.0.1");
        body(rtnl, tun);
    });
}
