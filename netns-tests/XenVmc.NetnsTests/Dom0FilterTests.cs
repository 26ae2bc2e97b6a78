using System.Diagnostics;
using System.Text.Json;
using XenVmc.Sim;
using Xunit.Abstractions;

namespace XenVmc.NetnsTests;

/// <summary>
/// Dom0's packet filter keeps its meaning: a Dom0 nftables rule between two guests holds them on
/// the bridge (the rule is obeyed, the other ports still work, both guests say why), a rule about
/// other networks leaves the bypass alone, and rules added and removed while paired take effect
/// within 5 s without breaking a running TCP stream.
/// </summary>
public sealed class Dom0FilterTests(ITestOutputHelper output)
{
    private const string Dom0 = "xvmc-dom0";
    private const string G1 = "xvmc-g1";
    private const string G2 = "xvmc-g2";
    private const string Table = "xvmc_test";
    private static readonly TimeSpan TakesEffect = TimeSpan.FromSeconds(5);

    [Fact]
    public void BridgeForwardRule_HoldsThePair_PortStaysClosed_OtherPortsReachThePeerOverEth0()
    {
        using var host = SimHost.Up("--guests", "2");
        AddRule("bridge", "forward", "ip daddr 198.18.0.2 tcp dport 5201 drop");
        AssertHeld("bridge");

        // The rule holds with the daemons running: 5201 cannot connect...
        string server = Iperf.StartServer(G2);
        try
        {
            var (exit, text, _) = SimHost.Exec(G1, "iperf3", "-c", "198.18.0.2", "-p", "5201", "--connect-timeout", "2000", "-t", "1", "-J");
            var report = JsonDocument.Parse(text.Length > 0 ? text : "{}").RootElement;
            Assert.True(exit != 0 || report.TryGetProperty("error", out _), "iperf3 reached 198.18.0.2:5201 through a Dom0 rule that drops it: " + text);
            Assert.Contains("unable to connect", text);
        }
        finally
        {
            IperfServer.Stop(server);
        }

        // ...while another port of g2 is reached, over eth0.
        AssertOtherPortOverEth0();
    }

    [Fact]
    public void InetForwardRule_WithBridgeNetfilter_HoldsThePair()
    {
        using var host = SimHost.Up("--guests", "2");
        if (!File.Exists("/proc/sys/net/bridge/bridge-nf-call-iptables"))
        {
            SimHost.Run("modprobe", ["br_netfilter"]);
        }

        if (SimHost.Exec(Dom0, "sysctl", "-w", "net.bridge.bridge-nf-call-iptables=1").Exit != 0)
        {
            output.WriteLine("SKIPPED: br_netfilter is not available (no net.bridge.bridge-nf-call-iptables, modprobe br_netfilter failed): inet rules cannot see bridged traffic here");
            return;
        }

        AddRule("inet", "forward", "ip daddr 198.18.0.2 tcp dport 5201 drop");
        AssertHeld("inet");
        string server = Iperf.StartServer(G2);
        try
        {
            Assert.NotEqual(0, SimHost.Exec(G1, "iperf3", "-c", "198.18.0.2", "-p", "5201", "--connect-timeout", "2000", "-t", "1").Exit);
        }
        finally
        {
            IperfServer.Stop(server);
        }

        AssertOtherPortOverEth0();

        // The same rule with bridged traffic hidden from inet chains concerns no pair.
        SimHost.ExecOk(Dom0, "sysctl", "-w", "net.bridge.bridge-nf-call-iptables=0", "net.bridge.bridge-nf-call-ip6tables=0");
        Assert.True(SimHost.WaitUntil(() => SimHost.RouteDevice(G1, "198.18.0.2") == "vmc0", TakesEffect), "the pair stayed held after bridge-nf-call was turned off\n" + SimHost.Logs());
    }

    [Fact]
    public void RuleAboutOtherNetworks_LeavesThePairOnTheBypass()
    {
        using var host = SimHost.Up("--guests", "2");
        AddRule("bridge", "forward", "ip daddr 203.0.113.0/24 drop");
        AddRule("bridge", "forward", "iifname \"vif9.0\" drop");
        AddRule("inet", "forward", "ip saddr 203.0.113.0/24 tcp dport 5201 drop");
        Thread.Sleep(2500); // more than two polls of Dom0's rule set

        Assert.Equal("vmc0", SimHost.RouteDevice(G1, "198.18.0.2"));
        Assert.Empty(SimHost.Status(G1).GetProperty("held").EnumerateArray());
        var before = SimHost.Bytes(G1, "vmc0");
        var report = Iperf.Run(G1, G2, "198.18.0.2", "-t", "1");
        Assert.True(Iperf.ReceivedBitsPerSecond(report) > 0);
        Assert.True(SimHost.Bytes(G1, "vmc0").Tx - before.Tx > 1_000_000, "vmc0 did not carry the stream");
    }

    [Fact]
    public async Task RuleAddedWhilePaired_TakesEffectWithin5s_StreamSurvives_RemovingItRepairs()
    {
        using var host = SimHost.Up("--guests", "2");
        Assert.Equal("vmc0", SimHost.RouteDevice(G1, "198.18.0.2"));
        string server = Iperf.StartServer(G2);
        Assert.True(SimHost.WaitUntil(() => SimHost.Exec(G2, "ss", "-Htln", "sport", "= :5201").Output.Trim().Length > 0, TimeSpan.FromSeconds(5)));
        var clock = Stopwatch.StartNew();
        var client = Task.Run(() => SimHost.Exec(G1, "iperf3", "-c", "198.18.0.2", "-p", "5201", "-t", "14", "-b", "200M", "-J"));
        try
        {
            Thread.Sleep(3000);
            var added = Stopwatch.StartNew();
            AddRule("bridge", "forward", "ip daddr 198.18.0.2 tcp dport 5202 drop");
            Assert.True(SimHost.WaitUntil(() => SimHost.RouteDevice(G1, "198.18.0.2") == "eth0" && SimHost.RouteDevice(G2, "198.18.0.1") == "eth0", TakesEffect),
                "the pair kept its bypass 5 s after a Dom0 rule between them was added\n" + SimHost.Logs());
            output.WriteLine($"held {added.Elapsed.TotalMilliseconds:0} ms after the rule was added");

            Thread.Sleep(3000);
            var removed = Stopwatch.StartNew();
            SimHost.ExecOk(Dom0, "nft", "delete", "table", "bridge", Table);
            Assert.True(SimHost.WaitUntil(() => SimHost.RouteDevice(G1, "198.18.0.2") == "vmc0" && SimHost.RouteDevice(G2, "198.18.0.1") == "vmc0", TakesEffect),
                "the pair did not return to the bypass 5 s after the rule was removed\n" + SimHost.Logs());
            output.WriteLine($"paired again {removed.Elapsed.TotalMilliseconds:0} ms after the rule was removed");
        }
        finally
        {
            var (exit, text, error) = await client;
            IperfServer.Stop(server);
            var report = JsonDocument.Parse(text.Length > 0 ? text : "{}").RootElement;
            Assert.True(exit == 0 && !report.TryGetProperty("error", out _), $"the TCP stream broke: {text}{error}");
            long sent = report.GetProperty("end").GetProperty("sum_sent").GetProperty("bytes").GetInt64();
            long received = report.GetProperty("end").GetProperty("sum_received").GetProperty("bytes").GetInt64();
            var intervals = report.GetProperty("intervals").EnumerateArray().Select(i => i.GetProperty("sum").GetProperty("bytes").GetInt64()).ToList();
            output.WriteLine($"sent {sent} bytes, received {received}; MB per second: " + string.Join(' ', intervals.Select(b => (b / 1e6).ToString("0.0"))));
            Assert.True(received > 0 && received <= sent && sent - received < 4 << 20, $"sent {sent}, received {received}");
            Assert.True(intervals.Count(b => b == 0) <= 1, $"{intervals.Count(b => b == 0)} one-second intervals carried nothing");
        }

        // One line when the pair was held and one when it was let go, not one per pass.
        string log = File.ReadAllText("/run/xenvmc-sim/logs/dom0.log");
        Assert.Equal(1, CountLines(log, "stay on the bridge, filtered in Dom0 by nft rule bridge xvmc_test forward"));
        Assert.Equal(1, CountLines(log, "are no longer filtered in Dom0"));
    }

    private static void AddRule(string family, string hook, string rule)
    {
        if (SimHost.Exec(Dom0, "nft", "list", "chain", family, Table, hook).Exit != 0)
        {
            SimHost.ExecOk(Dom0, "nft", "add", "table", family, Table);
            SimHost.ExecOk(Dom0, "nft", "add", "chain", family, Table, hook, $"{{ type filter hook {hook} priority 0; policy accept; }}");
        }

        SimHost.ExecOk(Dom0, ["nft", "add", "rule", family, Table, hook, .. rule.Split(' ')]);
    }

    /// <summary>Both guests lose the route to each other within 5 s and both say why.</summary>
    private void AssertHeld(string family)
    {
        Assert.True(SimHost.WaitUntil(() => SimHost.RouteDevice(G1, "198.18.0.2") == "eth0" && SimHost.RouteDevice(G2, "198.18.0.1") == "eth0", TakesEffect),
            "the pair kept its bypass through a Dom0 rule between them\n" + SimHost.Logs());
        Assert.True(SimHost.WaitUntil(() => Held(G1, 2) is not null && Held(G2, 1) is not null, TakesEffect), "status does not show the held peer");
        string reason = Held(G1, 2)!;
        Assert.Contains($"nft rule {family} {Table} forward", reason);
        Assert.Contains("5201", reason);
        Assert.Empty(SimHost.Status(G1).GetProperty("peers").EnumerateArray());
        string text = SimHost.ExecOk(G1, Path.Combine(SimHost.Bin, "xenvmc"), "status");
        Assert.Contains("peer 2: filtered in Dom0", text);
        output.WriteLine(text);
    }

    private static void AssertOtherPortOverEth0()
    {
        var before = SimHost.Bytes(G1, "vmc0");
        var eth0 = SimHost.Bytes(G1, "eth0");
        string pidFile = Path.Combine(Path.GetTempPath(), $"xenvmc-netns-iperf3-{Guid.NewGuid():N}.pid");
        SimHost.ExecOk(G2, "iperf3", "-s", "-1", "-D", "-p", "5202", "-I", pidFile);
        try
        {
            Assert.True(SimHost.WaitUntil(() => SimHost.Exec(G2, "ss", "-Htln", "sport", "= :5202").Output.Trim().Length > 0, TimeSpan.FromSeconds(5)));
            var (exit, text, error) = SimHost.Exec(G1, "iperf3", "-c", "198.18.0.2", "-p", "5202", "-t", "1", "-J");
            Assert.True(exit == 0, $"g2's other port is unreachable: {text}{error}");
        }
        finally
        {
            IperfServer.Stop(pidFile);
        }

        Assert.Equal(before.Tx, SimHost.Bytes(G1, "vmc0").Tx);
        Assert.True(SimHost.Bytes(G1, "eth0").Tx - eth0.Tx > 1_000_000, "eth0 did not carry the stream");
    }

    private static string? Held(string guest, int peer) =>
        SimHost.Status(guest).TryGetProperty("held", out var held)
            ? held.EnumerateArray().Where(h => h.GetProperty("domid").GetInt32() == peer).Select(h => h.GetProperty("reason").GetString()).FirstOrDefault()
            : null;

    private static int CountLines(string text, string what) => text.Split('\n').Count(l => l.Contains(what, StringComparison.Ordinal));
}
