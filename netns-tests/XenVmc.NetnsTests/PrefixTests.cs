using System.Diagnostics;
using System.Text.Json;
using XenVmc.Sim;
using Xunit.Abstractions;

namespace XenVmc.NetnsTests;

/// <summary>
/// Guests that route networks behind them (<c>xenvmc-sim up --pods</c>: a "pod" namespace behind
/// each guest, the guest forwarding): forwarded traffic never breaks a channel, granted networks
/// cross the bypass pod to pod, a source outside the grant is dropped and counted, and migration
/// moves the prefix routes without breaking TCP.
/// </summary>
public sealed class PrefixTests(ITestOutputHelper output)
{
    private const string G1 = "xvmc-g1";
    private const string G2 = "xvmc-g2";
    private const string P1 = "xvmc-p1";
    private const string P2 = "xvmc-p2";

    /// <summary>
    /// Pod 10.244.2.5 behind g2 pings g1 once a second for 40 s. Forwarded packets that entered
    /// vmc0 ungranted would make g1 disconnect the channel at each one, and re-pairing takes
    /// seconds, so the channel would go down again and again. Without a grant they must take eth0;
    /// with the pod network granted, vmc0. Nothing lost either way and the channel never closes.
    /// </summary>
    [Theory]
    [InlineData("--pods-ungranted")]
    [InlineData("--pods")]
    public void ForwardedTraffic_FromAPodBehindAGuest_LosesNothing_AndNeverClosesTheChannel(string pods)
    {
        using var host = SimHost.Up("--guests", "2", pods);
        bool granted = pods == "--pods";
        string log = "/run/xenvmc-sim/logs/xvmc-g1.log";
        int closedBefore = CountLines(log, "channel closed");
        var g2Vmc0 = SimHost.Bytes(G2, "vmc0");
        var g2Eth0 = SimHost.Bytes(G2, "eth0");

        var ping = Pinger.Start(P2, "198.18.0.1", count: 40, interval: 1).Wait();
        output.WriteLine($"pod 10.244.2.5 -> g1 ({pods}): {ping}");

        Assert.True(ping.Sent == 40 && ping.Lost.Count == 0, $"the pod's pings were lost: {ping}\n{SimHost.Logs()}");
        Assert.Equal(closedBefore, CountLines(log, "channel closed"));
        foreach (string ns in new[] { G1, G2 })
        {
            var status = SimHost.Status(ns);
            long violations = status.GetProperty("totals").GetProperty("violations").EnumerateObject().Sum(v => v.Value.GetInt64());
            Assert.Equal(0, violations);
            Assert.Equal(0, status.GetProperty("totals").GetProperty("drops").GetProperty("rx_bad_source").GetInt64());
            Assert.Equal("connected", Assert.Single(status.GetProperty("peers").EnumerateArray()).GetProperty("state").GetString());
        }

        // 40 requests of 84 bytes left g2 through the path the grant decides. vmc0 also carries the
        // kernel's own link-local IPv6 housekeeping (an MLDv2 report is 76 bytes), which is not the
        // pod's traffic: ungranted, vmc0 must stay far below the pings' 3360 bytes and eth0 carry them.
        ulong vmc0 = SimHost.Bytes(G2, "vmc0").Tx - g2Vmc0.Tx, eth0 = SimHost.Bytes(G2, "eth0").Tx - g2Eth0.Tx;
        output.WriteLine($"g2 tx during the pings: vmc0 {vmc0} bytes, eth0 {eth0} bytes");
        Assert.True(granted ? vmc0 >= 40 * 84 : vmc0 < 10 * 84 && eth0 >= 40 * 84, $"vmc0 carried {vmc0} bytes of the pod's traffic, eth0 {eth0} ({pods})");
        Assert.Equal(granted ? "vmc0" : "eth0", SimHost.Run("ip", ["-n", G2, "-j", "route", "get", "198.18.0.1", "from", "10.244.2.5", "iif", "pod0"]).Output.Contains("\"dev\":\"vmc0\"", StringComparison.Ordinal) ? "vmc0" : "eth0");
    }

    [Fact]
    public void PodToPod_TcpUdpIcmp_OverIpv4AndIpv6_CrossTheBypass()
    {
        using var host = SimHost.Up("--guests", "2", "--pods");
        string routes = SimHost.Run("ip", ["-n", G1, "route", "show", "table", "86"]).Output + SimHost.Run("ip", ["-n", G1, "-6", "route", "show", "table", "86"]).Output;
        output.WriteLine("g1 table 86:\n" + routes);
        Assert.Contains("10.244.2.0/24 dev vmc0 proto 86", routes);
        Assert.Contains("fd00:244:2::/64 dev vmc0 proto 86", routes);
        var vmc0Before = SimHost.Bytes(G1, "vmc0");
        var eth0Before = SimHost.Bytes(G1, "eth0");

        SimHost.ExecOk(P1, "ping", "-c", "5", "-i", "0.05", "-W", "2", "10.244.2.5");
        SimHost.ExecOk(P1, "ping", "-6", "-c", "5", "-i", "0.05", "-W", "2", "fd00:244:2::5");
        double tcp4 = Iperf.ReceivedBitsPerSecond(Iperf.Run(P1, P2, "10.244.2.5", "-t", "2"));
        double tcp6 = Iperf.ReceivedBitsPerSecond(Iperf.Run(P1, P2, "fd00:244:2::5", "-t", "2"));
        // Each datagram also crosses two veths and two forwarding guests: a lower rate than BypassTests'.
        var udp = Iperf.Run(P1, P2, "10.244.2.5", "-u", "-b", "50M", "-l", "1400", "-t", "2");
        var udp6 = Iperf.Run(P1, P2, "fd00:244:2::5", "-u", "-b", "50M", "-l", "1200", "-t", "2");
        Assert.True(tcp4 > 50e6 && tcp6 > 50e6, $"pod to pod TCP moved {tcp4 / 1e6:0} / {tcp6 / 1e6:0} Mbit/s");
        foreach (var report in new[] { udp, udp6 })
        {
            var sum = report.GetProperty("end").GetProperty("sum");
            Assert.True(sum.GetProperty("packets").GetInt64() > 1000, "UDP sent too few packets");
            Assert.True(sum.GetProperty("lost_percent").GetDouble() < 10, $"UDP lost {sum.GetProperty("lost_percent")} %");
        }

        ulong vmc0 = SimHost.Bytes(G1, "vmc0").Tx - vmc0Before.Tx, eth0 = SimHost.Bytes(G1, "eth0").Tx - eth0Before.Tx;
        output.WriteLine($"g1 tx: vmc0 {vmc0 / 1e6:0.0} MB, eth0 {eth0 / 1e6:0.000} MB; TCP {tcp4 / 1e9:0.00} / {tcp6 / 1e9:0.00} Gbit/s");
        Assert.True(vmc0 > 20_000_000, $"only {vmc0} bytes left g1 through vmc0");
        Assert.True(eth0 < vmc0 / 100, $"{eth0} bytes left g1 through eth0: pod traffic did not take the bypass");
        var peer = Assert.Single(SimHost.Status(G2).GetProperty("peers").EnumerateArray());
        Assert.Equal(0, peer.GetProperty("drops").GetProperty("rx_bad_source").GetInt64());
    }

    /// <summary>
    /// g2 is made to send from an address Dom0 never granted it (a rule of our own leading
    /// 198.19.2.2 into table 86, as a misconfigured or hostile guest could): g1 drops and counts each
    /// packet and keeps the channel; only when such packets keep coming past the grace period is
    /// g2 cut off as a spoofer.
    /// </summary>
    [Fact]
    public void ASourceOutsideTheGrant_IsDroppedAndCounted_AndOnlyAPersistentSpooferIsCutOff()
    {
        using var host = SimHost.Up("--guests", "2", "--pods");
        SimHost.ExecOk(G2, "ip", "addr", "add", "198.19.2.2/32", "dev", "pod0");
        SimHost.ExecOk(G2, "ip", "rule", "add", "from", "198.19.2.2", "lookup", "86", "pref", "85");
        try
        {
            var single = SimHost.Exec(G2, "ping", "-c", "3", "-i", "0.2", "-W", "1", "-I", "198.19.2.2", "198.18.0.1");
            Assert.NotEqual(0, single.Exit);
            var status = SimHost.Status(G1);
            var peer = Assert.Single(status.GetProperty("peers").EnumerateArray());
            output.WriteLine($"after 3 spoofed pings: {peer.GetProperty("drops")}");
            Assert.Equal(3, peer.GetProperty("drops").GetProperty("rx_bad_source").GetInt64());
            Assert.Equal("connected", peer.GetProperty("state").GetString());
            Assert.Equal(0, status.GetProperty("totals").GetProperty("violations").GetProperty("spoofed_source").GetInt64());

            // The granted pod still gets through meanwhile.
            SimHost.ExecOk(P2, "ping", "-c", "2", "-i", "0.2", "-W", "1", "198.18.0.1");

            var clock = Stopwatch.StartNew();
            var flood = SimHost.Exec(G2, "ping", "-c", "40", "-i", "0.2", "-W", "1", "-I", "198.19.2.2", "198.18.0.1");
            output.WriteLine($"40 spoofed pings over 8 s: exit {flood.Exit}, {clock.Elapsed.TotalSeconds:0.0} s");
            var after = SimHost.Status(G1);
            long cut = after.GetProperty("totals").GetProperty("violations").GetProperty("spoofed_source").GetInt64();
            output.WriteLine($"g1 totals: {after.GetProperty("totals").GetProperty("drops")}, spoofed_source violations {cut}");
            Assert.Equal(1, cut);
        }
        finally
        {
            SimHost.Exec(G2, "ip", "rule", "del", "from", "198.19.2.2", "lookup", "86", "pref", "85");
        }
    }

    [Fact]
    public async Task Migration_MovesThePrefixRoutes_AndATcpStreamBetweenPodsSurvives()
    {
        using var host = SimHost.Up("--guests", "2", "--pods");
        string iperfPid = Iperf.StartServer(P2);
        Assert.True(SimHost.WaitUntil(() => SimHost.Exec(P2, "ss", "-Htln", "sport", "= :5201").Output.Trim().Length > 0, TimeSpan.FromSeconds(5)));
        var client = Task.Run(() => SimHost.Exec(P1, "iperf3", "-c", "10.244.2.5", "-p", "5201", "-t", "14", "-J"));
        try
        {
            Thread.Sleep(3000);
            SimHost.Sim("migrate", "2", "--away");
            Assert.True(SimHost.WaitUntil(() => RouteDevice(G1, "10.244.2.5", "10.244.1.5") == "eth0", TimeSpan.FromSeconds(3)), "g1 still routes g2's pod network through vmc0 after g2 migrated away");
            Assert.DoesNotContain("10.244.2.0/24", SimHost.Run("ip", ["-n", G1, "route", "show", "table", "86"]).Output);
            Thread.Sleep(3000);
            SimHost.Sim("migrate", "2", "--back");
            Assert.True(SimHost.WaitUntil(() => RouteDevice(G1, "10.244.2.5", "10.244.1.5") == "vmc0", TimeSpan.FromSeconds(8)), $"g1 does not route g2's pod network through vmc0 after its return\n{SimHost.Logs()}");
        }
        finally
        {
            var (exit, text, error) = await client;
            IperfServer.Stop(iperfPid);
            var report = JsonDocument.Parse(text.Length > 0 ? text : "{}").RootElement;
            Assert.True(exit == 0 && !report.TryGetProperty("error", out _), $"iperf3 between the pods failed across the migration: {text}{error}");
            var intervals = report.GetProperty("intervals").EnumerateArray().Select(i => i.GetProperty("sum").GetProperty("bytes").GetInt64()).ToList();
            output.WriteLine("iperf3 MB per second: " + string.Join(' ', intervals.Select(b => (b / 1e6).ToString("0"))));
            Assert.True(intervals.Count(b => b == 0) <= 2, $"{intervals.Count(b => b == 0)} one-second intervals carried nothing");
        }
    }

    /// <summary>The device of a forwarded packet from <paramref name="from"/> (arriving on pod0) to <paramref name="address"/>.</summary>
    private static string RouteDevice(string netns, string address, string from)
    {
        var (exit, text, _) = SimHost.Run("ip", ["-n", netns, "-j", "route", "get", address, "from", from, "iif", "pod0"]);
        return exit == 0 ? JsonDocument.Parse(text).RootElement[0].GetProperty("dev").GetString() ?? "" : "";
    }

    private static int CountLines(string path, string text) =>
        File.Exists(path) ? File.ReadLines(path).Count(l => l.Contains(text, StringComparison.Ordinal)) : 0;
}
