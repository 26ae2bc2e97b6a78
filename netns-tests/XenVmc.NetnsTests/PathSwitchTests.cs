using System.Diagnostics;
using System.Text.Json;
using XenVmc.Sim;
using Xunit.Abstractions;

namespace XenVmc.NetnsTests;

/// <summary>
/// Switching paths under traffic: migration away and back, clean shutdown, destroy, a guest
/// daemon killed, Dom0's daemon killed. Connections survive, and every lost packet is
/// explained by the counters or by the guest having been off.
/// </summary>
public sealed class PathSwitchTests(ITestOutputHelper output)
{
    private const string G1 = "xvmc-g1";
    private const string G2 = "xvmc-g2";
    private const string G3 = "xvmc-g3";

    [Fact]
    public async Task Migration_UnderIperf_FallsBackAndReturns_WithoutBreakingTheConnection()
    {
        using var host = SimHost.Up("--guests", "2");
        string iperfPid = Iperf.StartServer(G2);
        Assert.True(SimHost.WaitUntil(() => SimHost.Exec(G2, "ss", "-Htln", "sport", "= :5201").Output.Trim().Length > 0, TimeSpan.FromSeconds(5)));
        var clock = Stopwatch.StartNew();
        var client = Task.Run(() => SimHost.Exec(G1, "iperf3", "-c", "198.18.0.2", "-p", "5201", "-t", "16", "-J"));
        try
        {
            SleepUntil(clock, 4);
            var away = Stopwatch.StartNew();
            SimHost.Sim("migrate", "2", "--away");
            Assert.True(SimHost.WaitUntil(() => SimHost.RouteDevice(G1, "198.18.0.2") == "eth0", TimeSpan.FromSeconds(3) - away.Elapsed), "g1 still routes g2 through vmc0 3 s after g2 migrated away");
            output.WriteLine($"route via eth0 {away.Elapsed.TotalMilliseconds:0} ms after the migration started");

            SleepUntil(clock, 9);
            var back = Stopwatch.StartNew();
            SimHost.Sim("migrate", "2", "--back");
            Assert.True(SimHost.WaitUntil(() => SimHost.RouteDevice(G1, "198.18.0.2") == "vmc0", TimeSpan.FromSeconds(5) - back.Elapsed), $"g1 does not route g2 through vmc0 5 s after its return\n{SimHost.Logs()}");
            output.WriteLine($"route via vmc0 {back.Elapsed.TotalMilliseconds:0} ms after the migration back started");
        }
        finally
        {
            var (exit, text, error) = await client;
            IperfServer.Stop(iperfPid);
            var report = JsonDocument.Parse(text.Length > 0 ? text : "{}").RootElement;
            Assert.True(exit == 0 && !report.TryGetProperty("error", out _), $"iperf3 failed across the migration: {text}{error}");
            var intervals = report.GetProperty("intervals").EnumerateArray().Select(i => i.GetProperty("sum").GetProperty("bytes").GetInt64()).ToList();
            output.WriteLine("iperf3 MB per second: " + string.Join(' ', intervals.Select(b => (b / 1e6).ToString("0"))));
            Assert.True(intervals.Count(b => b == 0) <= 2, $"{intervals.Count(b => b == 0)} one-second intervals carried nothing");
        }

        // g2 came back as a new domain and paired again as that domain.
        var g2 = SimHost.Status(G2);
        Assert.NotEqual(2, g2.GetProperty("domid").GetInt32());
        Assert.True(g2.GetProperty("sessions").GetInt32() >= 3, "g2's daemon did not re-register after each move");
        Assert.Equal(g2.GetProperty("domid").GetInt32(), SimHost.Status(G1).GetProperty("peers").EnumerateArray().Single().GetProperty("domid").GetInt32());
        Assert.True(SimHost.Bytes(G1, "vmc0").Tx > 0);
    }

    [Fact]
    public async Task Transfer200MB_AcrossTwoSwitches_ArrivesIntact()
    {
        using var host = SimHost.Up("--guests", "2");
        string dir = Directory.CreateTempSubdirectory("xenvmc-transfer-").FullName;
        try
        {
            string source = Path.Combine(dir, "source");
            string received = Path.Combine(dir, "received");
            SimHost.Run("sh", ["-c", $"head -c 200M /dev/urandom > {source}"]);
            var receiver = Task.Run(() => SimHost.Exec(G2, "socat", "-u", "TCP-LISTEN:7000,reuseaddr", $"OPEN:{received},creat,trunc"));
            Assert.True(SimHost.WaitUntil(() => SimHost.Exec(G2, "ss", "-Htln", "sport", "= :7000").Output.Trim().Length > 0, TimeSpan.FromSeconds(5)));

            // 25 MB/s: the transfer takes about 8 s, long enough to cross both switches even when
            // a loaded machine makes each migration take a second or two.
            var clock = Stopwatch.StartNew();
            var sender = Task.Run(() => SimHost.Exec(G1, "sh", "-c", $"pv -q -L 25m {source} | socat -u - TCP:198.18.0.2:7000"));
            SleepUntil(clock, 1.5);
            SimHost.Sim("migrate", "2", "--away");
            SleepUntil(clock, 3);
            SimHost.Sim("migrate", "2", "--back");
            Assert.False(sender.IsCompleted, "the transfer ended before the second switch; it proves nothing");
            var sent = await sender.WaitAsync(TimeSpan.FromSeconds(60));
            var got = await receiver.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(sent.Exit == 0, $"sender: {sent.Output}{sent.Error}");
            Assert.True(got.Exit == 0, $"receiver: {got.Output}{got.Error}");
            string Sha(string path) => SimHost.Run("sha256sum", [path]).Output.Split(' ')[0];
            Assert.Equal(new FileInfo(source).Length, new FileInfo(received).Length);
            Assert.Equal(Sha(source), Sha(received));
            output.WriteLine($"200 MB in {clock.Elapsed.TotalSeconds:0.0} s, sha256 {Sha(source)[..16]}… on both ends");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void GuestDaemonKilled_PeerFallsBackWithinTwoSeconds_AndCountersExplainTheLoss()
    {
        using var host = SimHost.Up("--guests", "3");
        var ping = Pinger.Start(G1, "198.18.0.2", 200);
        var other = Pinger.Start(G1, "198.18.0.3", 200);
        Thread.Sleep(1000);
        var killed = Stopwatch.StartNew();
        SimHost.Sim("daemon", "kill", "2");
        Assert.True(SimHost.WaitUntil(() => SimHost.RouteDevice(G1, "198.18.0.2") == "eth0", TimeSpan.FromSeconds(2)), "g1 kept its route to a guest whose daemon was killed");
        output.WriteLine($"route via eth0 {killed.Elapsed.TotalMilliseconds:0} ms after SIGKILL");
        var lost = ping.Wait();
        var unaffected = other.Wait();
        output.WriteLine($"g1 -> g2: {lost}");
        output.WriteLine($"g1 -> g3: {unaffected}");
        Assert.Empty(unaffected.Lost);

        // A request g1 put on the ring that g2's dead daemon never took is counted at close; one
        // that was not sent because the channel was closing is counted as not_connected.
        var status = SimHost.Status(G1);
        long explained = status.GetProperty("totals").GetProperty("tx_unconsumed_at_close").GetInt64()
            + status.GetProperty("tun").GetProperty("drops").GetProperty("not_connected").GetInt64()
            + status.GetProperty("totals").GetProperty("drops").GetProperty("tx_ring_full").GetInt64();
        output.WriteLine($"explained by g1's counters: {explained}");

        // One reply may die inside g2's kernel, queued for the daemon that was killed.
        Assert.True(lost.Lost.Count <= explained + 1, $"{lost.Lost.Count} pings lost, counters explain {explained}");

        SimHost.Sim("daemon", "start", "2");
        Assert.True(SimHost.WaitUntil(() => SimHost.RouteDevice(G1, "198.18.0.2") == "vmc0" && SimHost.RouteDevice(G2, "198.18.0.1") == "vmc0", TimeSpan.FromSeconds(5)), "no route back after the daemon restarted");
        SimHost.ExecOk(G2, "ping", "-c", "3", "-i", "0.05", "-w", "5", "198.18.0.1");
        Assert.True(SimHost.Status(G2).GetProperty("peers").EnumerateArray().Any(p => p.GetProperty("domid").GetInt32() == 1 && p.GetProperty("rx_packets").GetInt64() >= 3), "the replies did not come through the bypass");
    }

    [Fact]
    public void Destroy_FallsBack_OtherPeersUnaffected_StartPairsAgainUnderANewDomid()
    {
        using var host = SimHost.Up("--guests", "3");
        var ping = Pinger.Start(G1, "198.18.0.2", 300);
        var other = Pinger.Start(G1, "198.18.0.3", 300);
        Thread.Sleep(1000);
        var clock = Stopwatch.StartNew();
        SimHost.Sim("destroy", "2");
        Assert.True(SimHost.WaitUntil(() => SimHost.RouteDevice(G1, "198.18.0.2") == "eth0", TimeSpan.FromSeconds(2)), "g1 kept its route to a destroyed guest");
        TimeSpan fellBack = clock.Elapsed;
        Thread.Sleep(1000);
        var restart = Stopwatch.StartNew();
        SimHost.Sim("start", "2");
        Assert.True(SimHost.WaitUntil(() => SimHost.RouteDevice(G1, "198.18.0.2") == "vmc0", TimeSpan.FromSeconds(5)), $"g2 did not pair again after start\n{SimHost.Logs()}");
        TimeSpan off = clock.Elapsed;
        output.WriteLine($"fallback after {fellBack.TotalMilliseconds:0} ms, paired again {restart.Elapsed.TotalMilliseconds:0} ms after start");
        var lost = ping.Wait();
        var unaffected = other.Wait();
        output.WriteLine($"g1 -> g2: {lost}");
        output.WriteLine($"g1 -> g3: {unaffected}");
        Assert.Empty(unaffected.Lost);

        // Pings go unanswered while g2 is off; none may be lost beyond that (one run, plus the reply in flight).
        Assert.True(lost.LongestGap <= off + TimeSpan.FromSeconds(1), $"longest gap {lost.LongestGap} for {off} off");
        Assert.True(lost.Lost.Count * ping.Interval <= off.TotalSeconds + 1, $"{lost.Lost.Count} lost for {off.TotalSeconds:0.0} s off");

        var g2 = SimHost.Status(G2);
        Assert.True(g2.GetProperty("domid").GetInt32() > 3, "start should create a new domain");
        SimHost.ExecOk(G1, "ping", "-c", "3", "-i", "0.05", "198.18.0.2");
        Assert.Contains(SimHost.Status(G1).GetProperty("peers").EnumerateArray(), p => p.GetProperty("domid").GetInt32() == g2.GetProperty("domid").GetInt32() && p.GetProperty("rx_packets").GetInt64() >= 3);
    }

    [Fact]
    public void CleanShutdown_WithdrawsAtOnce_AndLosesNothingBeforeTheGuestIsOff()
    {
        using var host = SimHost.Up("--guests", "2");
        SimHost.ExecOk(G1, "ping", "-c", "20", "-i", "0.01", "198.18.0.2");
        var before = SimHost.Status(G1).GetProperty("peers")[0];
        var clock = Stopwatch.StartNew();
        SimHost.Sim("shutdown", "2");
        Assert.Equal("eth0", SimHost.RouteDevice(G1, "198.18.0.2"));
        output.WriteLine($"shutdown done and route via eth0 after {clock.Elapsed.TotalMilliseconds:0} ms");
        Assert.True(SimHost.WaitUntil(() => SimHost.Status(G1).GetProperty("peers").GetArrayLength() == 0, TimeSpan.FromSeconds(2)), "g1 still lists the peer after its domain was destroyed");
        var totals = SimHost.Status(G1).GetProperty("totals");

        // A clean stop drains both rings: whatever g1 sent, g2 took before it left.
        Assert.Equal(0, totals.GetProperty("tx_unconsumed_at_close").GetInt64());
        Assert.True(totals.GetProperty("tx_packets").GetInt64() >= before.GetProperty("tx_packets").GetInt64());
        Assert.NotEqual(0, SimHost.Exec(G1, "ping", "-c", "1", "-W", "1", "198.18.0.2").Exit);

        SimHost.Sim("start", "2");
        Assert.True(SimHost.WaitUntil(() => SimHost.RouteDevice(G1, "198.18.0.2") == "vmc0", TimeSpan.FromSeconds(5)), "g2 did not pair again after start");
        SimHost.ExecOk(G1, "ping", "-c", "3", "-i", "0.05", "198.18.0.2");
    }

    [Fact]
    public void PoweroffRequest_WithdrawsForGood_EvenWhenTheKernelClearsIt()
    {
        using var host = SimHost.Up("--guests", "2");
        int domid = SimHost.Status(G2).GetProperty("domid").GetInt32();
        string request = $"/local/domain/{domid}/control/shutdown";

        // What xl shutdown writes; a real guest kernel then clears the node as it acts on it.
        SimHost.Xenstore("xenstore-write", request, "poweroff");
        Assert.True(SimHost.WaitUntil(() => SimHost.RouteDevice(G1, "198.18.0.2") == "eth0", TimeSpan.FromSeconds(2)), "g1 kept its route to a guest going down");
        SimHost.Xenstore("xenstore-write", request, "");

        // A guest going down must not register again and pull its peers back into a channel.
        Thread.Sleep(2000);
        Assert.Equal("eth0", SimHost.RouteDevice(G1, "198.18.0.2"));
        Assert.Equal(0, SimHost.Status(G2).GetProperty("peers").GetArrayLength());
        Assert.DoesNotContain($"/local/domain/{domid}/data/xenvmc/state", SimHost.Xenstore("xenstore-ls", "-f", $"/local/domain/{domid}"));
        Assert.Contains("staying withdrawn", SimHost.Logs());
    }

    [Fact]
    public void Dom0DaemonKilled_ChannelsKeepWorking_AndARestartedDom0KeepsThem()
    {
        using var host = SimHost.Up("--guests", "2");
        string since = SimHost.Status(G1).GetProperty("peers")[0].GetProperty("connected_since").GetString()!;
        var ping = Pinger.Start(G1, "198.18.0.2", 150);
        Thread.Sleep(500);
        SimHost.Sim("dom0", "kill");
        Thread.Sleep(1000);
        Assert.Equal("vmc0", SimHost.RouteDevice(G1, "198.18.0.2"));
        SimHost.Sim("dom0", "start");
        var result = ping.Wait();
        output.WriteLine($"g1 -> g2 across the Dom0 daemon's death and restart: {result}");
        Assert.Empty(result.Lost);

        // The restarted daemon finds the tables right and leaves them, so no channel was rebuilt.
        Thread.Sleep(1000);
        var peer = SimHost.Status(G1).GetProperty("peers")[0];
        Assert.Equal("connected", peer.GetProperty("state").GetString());
        Assert.Equal(since, peer.GetProperty("connected_since").GetString());
        Assert.Equal("vmc0", SimHost.RouteDevice(G2, "198.18.0.1"));
    }

    private static void SleepUntil(Stopwatch clock, double seconds)
    {
        var left = TimeSpan.FromSeconds(seconds) - clock.Elapsed;
        if (left > TimeSpan.Zero)
        {
            Thread.Sleep(left);
        }
    }
}
