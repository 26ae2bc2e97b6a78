using System.Diagnostics;
using Xunit.Abstractions;

namespace XenVmc.NetnsTests;

/// <summary>
/// What an operator does to a running guest: scrape its metrics (checked with promtool), and
/// upgrade the package, whose postinst restarts the daemon the way systemd does it (SIGTERM, then
/// the new program): traffic to the peer falls back to eth0, comes back to vmc0, and a TCP stream
/// across the restart arrives whole.
/// </summary>
public sealed class OperationsTests(ITestOutputHelper output)
{
    private const string G1 = "xvmc-g1";
    private const string G2 = "xvmc-g2";

    [Fact]
    public void Metrics_FromARunningGuest_PassPromtool_AndCountThePackets()
    {
        using var host = SimHost.Up("--guests", "2");
        SimHost.ExecOk(G1, "ping", "-c", "5", "-i", "0.05", "-W", "2", "198.18.0.2");
        string xenvmc = Path.Combine(SimHost.Bin, "xenvmc");
        string text = SimHost.ExecOk(G1, xenvmc, "metrics");
        Assert.Contains("xenvmc_up 1\n", text, StringComparison.Ordinal);
        Assert.Contains("xenvmc_peer_state{peer=\"2\",state=\"connected\"} 1\n", text, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^xenvmc_peer_receive_packets_total\{peer=""2""\} ([5-9]|\d\d+)$", text);
        Assert.Matches(@"(?m)^xenvmc_peer_ring_size_bytes\{peer=""2""\} 524288$", text);
        Assert.Matches(@"(?m)^xenvmc_data_thread_passes_total [1-9]\d*$", text);

        var check = SimHost.Run("sh", ["-c", $"ip netns exec {G1} {xenvmc} metrics | promtool check metrics"]);
        Assert.True(check.Exit == 0 && check.Output.Length == 0 && check.Error.Length == 0, $"promtool check metrics: exit {check.Exit}\n{check.Output}{check.Error}");
        output.WriteLine(text);
    }

    [Fact]
    public async Task DaemonRestartAsInAnUpgrade_FallsBackToEth0_ComesBack_AndATcpStreamSurvives()
    {
        using var host = SimHost.Up("--guests", "2");
        string dir = Directory.CreateTempSubdirectory("xenvmc-upgrade-").FullName;
        try
        {
            string source = Path.Combine(dir, "source");
            string received = Path.Combine(dir, "received");
            SimHost.Run("sh", ["-c", $"head -c 150M /dev/urandom > {source}"]);
            var receiver = Task.Run(() => SimHost.Exec(G2, "socat", "-u", "TCP-LISTEN:7001,reuseaddr", $"OPEN:{received},creat,trunc"));
            Assert.True(SimHost.WaitUntil(() => SimHost.Exec(G2, "ss", "-Htln", "sport", "= :7001").Output.Trim().Length > 0, TimeSpan.FromSeconds(5)));
            Assert.Equal("vmc0", SimHost.RouteDevice(G1, "198.18.0.2"));

            // 25 MB/s: about 6 s, long enough to span the restart on a loaded machine.
            var clock = Stopwatch.StartNew();
            var sender = Task.Run(() => SimHost.Exec(G1, "sh", "-c", $"pv -q -L 25m {source} | socat -u - TCP:198.18.0.2:7001"));
            Thread.Sleep(1500);

            // What postinst's try-restart makes systemd do: SIGTERM (the daemon withdraws and removes
            // its routes), then the new program.
            SimHost.Sim("daemon", "stop", "1");
            Assert.True(SimHost.WaitUntil(() => SimHost.RouteDevice(G1, "198.18.0.2") == "eth0", TimeSpan.FromSeconds(5)), "g1 falls back to eth0");
            Assert.True(SimHost.WaitUntil(() => SimHost.RouteDevice(G2, "198.18.0.1") == "eth0", TimeSpan.FromSeconds(5)), "g2 falls back to eth0");
            var down = clock.Elapsed;
            SimHost.Sim("daemon", "start", "1");
            Assert.True(SimHost.WaitUntil(() => SimHost.RouteDevice(G1, "198.18.0.2") == "vmc0" && SimHost.RouteDevice(G2, "198.18.0.1") == "vmc0", TimeSpan.FromSeconds(20)), "both back on vmc0");
            var up = clock.Elapsed;
            var vmc0Before = SimHost.Bytes(G1, "vmc0");
            Assert.False(sender.IsCompleted, "the stream ended before the daemon came back; it proves nothing");

            var sent = await sender.WaitAsync(TimeSpan.FromSeconds(60));
            var got = await receiver.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(sent.Exit == 0, $"sender: {sent.Output}{sent.Error}");
            Assert.True(got.Exit == 0, $"receiver: {got.Output}{got.Error}");
            Assert.True(SimHost.Bytes(G1, "vmc0").Tx > vmc0Before.Tx, "the rest of the stream went through vmc0 again");
            string Sha(string path) => SimHost.Run("sha256sum", [path]).Output.Split(' ')[0];
            Assert.Equal(new FileInfo(source).Length, new FileInfo(received).Length);
            Assert.Equal(Sha(source), Sha(received));
            output.WriteLine($"eth0 from {down.TotalSeconds:0.0} s, vmc0 again at {up.TotalSeconds:0.0} s, 150 MB in {clock.Elapsed.TotalSeconds:0.0} s, sha256 {Sha(source)[..16]}… on both ends");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
