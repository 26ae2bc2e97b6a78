using System.Diagnostics;
using XenVmc.XenStore;

namespace XenVmc.NetnsTests;

/// <summary>Who pairs with whom: Dom0's policy (same bridge), readiness of the daemons, and who can see the tables.</summary>
public sealed class PairingTests
{
    [Fact]
    public void GuestOnAnotherBridge_IsInNoTable_AndGetsNoRoute()
    {
        using var host = SimHost.Up("--guests", "3", "--bridges", "xenbr0,xenbr0,xenbr1");
        Assert.Equal("vmc0", SimHost.RouteDevice("xvmc-g1", "198.18.0.2"));
        Assert.Equal("vmc0", SimHost.RouteDevice("xvmc-g2", "198.18.0.1"));

        // Give Dom0 and the daemons time to do anything wrong.
        Thread.Sleep(1000);
        Assert.Equal("eth0", SimHost.RouteDevice("xvmc-g1", "198.18.0.3"));
        Assert.Equal("eth0", SimHost.RouteDevice("xvmc-g3", "198.18.0.1"));
        Assert.Empty(SimHost.Run("ip", ["-n", "xvmc-g3", "route", "show", "table", "all", "proto", "86"]).Output.Trim());
        Assert.Empty(SimHost.Status("xvmc-g3").GetProperty("peers").EnumerateArray());
        Assert.Equal([2], SimHost.Status("xvmc-g1").GetProperty("peers").EnumerateArray().Select(p => p.GetProperty("domid").GetInt32()));

        // Bypassing Dom0 must not connect what its bridges keep apart: g3 cannot reach g1 at all.
        Assert.NotEqual(0, SimHost.Exec("xvmc-g3", "ping", "-c", "2", "-i", "0.2", "-W", "1", "198.18.0.1").Exit);

        // Dom0's view: g3's table is empty and nobody lists domain 3.
        string tables = SimHost.Xenstore("xenstore-ls", "-f", "/local/domain");
        Assert.DoesNotContain("/local/domain/1/xenvmc/peers/3", tables);
        Assert.DoesNotContain("/local/domain/2/xenvmc/peers/3", tables);
        Assert.DoesNotContain("/local/domain/3/xenvmc/peers/", tables);
    }

    [Fact]
    public async Task PeerTables_AreReadableOnlyByTheirGuest()
    {
        using var host = SimHost.Up("--guests", "3");

        // As domain 1 (its own store socket), the real xenstore-read sees its table...
        Assert.Equal("198.18.0.2 fd00:198:18::2", XenstoreAs(1, "xenstore-read", "/local/domain/1/xenvmc/peers/2/ip").Output.Trim());

        // ...but not domain 2's, nor can it write its own.
        var denied = XenstoreAs(1, "xenstore-read", "/local/domain/2/xenvmc/peers/1/ip");
        Assert.NotEqual(0, denied.Exit);
        Assert.Contains("couldn't read path", denied.Error); // xenstore-read does not print the errno; EACCES itself is checked in the store's unit tests
        Assert.NotEqual(0, XenstoreAs(1, "xenstore-write", "/local/domain/1/xenvmc/peers/2/ip", "198.18.0.99").Exit);
        Assert.NotEqual(0, XenstoreAs(3, "xenstore-list", "/local/domain/1/xenvmc/peers").Exit);

        // The store's answer itself, on domain 1's own connection: EACCES.
        await using var asDomain1 = XenStoreClient.ConnectSocket("/run/xenvmc-sim/xenstored/domains/1");
        var error = await Assert.ThrowsAsync<XenStoreException>(() => asDomain1.ReadStringAsync("/local/domain/2/xenvmc/peers/1/ip"));
        Assert.Equal(XsError.EACCES, error.Error);
    }

    [Fact]
    public void GuestWithoutDaemon_IsInNoTable_AndPairsWithin2sOfStarting()
    {
        using var host = SimHost.Up("--guests", "3");
        SimHost.Sim("daemon", "stop", "2");
        Assert.True(SimHost.WaitUntil(() => SimHost.RouteDevice("xvmc-g1", "198.18.0.2") == "eth0", TimeSpan.FromSeconds(3)), "g1 kept its route to a guest without a daemon");
        Assert.True(SimHost.WaitUntil(() => !SimHost.Xenstore("xenstore-ls", "-f", "/local/domain").Contains("/peers/2/", StringComparison.Ordinal), TimeSpan.FromSeconds(3)), "domain 2 stayed in a peer table");
        Assert.Equal("vmc0", SimHost.RouteDevice("xvmc-g1", "198.18.0.3"));

        var clock = Stopwatch.StartNew();
        SimHost.Sim("daemon", "start", "2");
        Assert.True(SimHost.WaitUntil(() =>
            SimHost.RouteDevice("xvmc-g1", "198.18.0.2") == "vmc0" && SimHost.RouteDevice("xvmc-g3", "198.18.0.2") == "vmc0" &&
            SimHost.RouteDevice("xvmc-g2", "198.18.0.1") == "vmc0" && SimHost.RouteDevice("xvmc-g2", "198.18.0.3") == "vmc0", TimeSpan.FromSeconds(10)),
            "g2 did not pair after its daemon started\n" + SimHost.Logs());
        var elapsed = clock.Elapsed;
        Assert.True(elapsed < TimeSpan.FromSeconds(2), $"pairing took {elapsed.TotalSeconds:0.00} s (the xenvmc-sim daemon start included)");
        SimHost.ExecOk("xvmc-g2", "ping", "-c", "2", "-i", "0.05", "198.18.0.1");
    }

    private static (int Exit, string Output, string Error) XenstoreAs(int domid, string tool, params string[] args) =>
        SimHost.Run("env", [$"XENSTORED_PATH=/run/xenvmc-sim/xenstored/domains/{domid}", tool, .. args]);
}
