using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using XenVmc.Guest;
using XenVmc.Guest.Status;
using XenVmc.Tests.Support;

namespace XenVmc.Tests.Cli;

/// <summary>
/// The built <c>xenvmc</c> program against the daemon's real status server (serving snapshots the
/// test makes): output, --json, the live view, and the exit codes scripts rely on.
/// </summary>
public sealed class XenvmcCommandTests : IAsyncLifetime
{
    private readonly string _socket = "@xvt-status-" + Guid.NewGuid().ToString("N")[..10];
    private StatusServer? _server;
    private long _txBytes = 1_000_000;
    private int _domid = 3;
    private string _state2 = "connected";

    public Task InitializeAsync()
    {
        _server = StatusServer.Start(_socket, Snapshot, new GuestLog(NullLogger.Instance));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _server!.DisposeAsync();

    private StatusSnapshot Snapshot()
    {
        long tx = Interlocked.Add(ref _txBytes, 125_000); // grows with every request: the live view shows a rate
        var drops = new Dictionary<string, long> { ["tx_ring_full"] = 2, ["rx_bad_source"] = 0 };
        PeerStatus Peer(int domid, string state, long txBytes) => new(domid, [$"198.18.0.{domid}"], state, "lower", DateTimeOffset.UnixEpoch, 10, txBytes, 20, 2000, drops, 5, 0, 0, new Dictionary<string, long>());
        return new StatusSnapshot(_domid, "vmc0", "simulated", DateTimeOffset.UtcNow, 1,
            [Peer(1, "connected", tx), Peer(2, _state2, 7)],
            new CounterTotals(30, tx + 7 + 500, 40, 4000, 1, 2, drops, new Dictionary<string, long> { ["rx_record"] = 1 }),
            new TunStatus(99, 9900, new Dictionary<string, long> { ["no_peer"] = 4 }))
        {
            StartedAt = DateTimeOffset.UtcNow.AddSeconds(-90),
            DataThreadPasses = 4242,
        };
    }

    private (int Exit, string Out, string Err) Xenvmc(params string[] args)
    {
        string program = Path.Combine(RepoRoot.Path, "bin", "xenvmc");
        Assert.True(File.Exists(program), $"{program} is missing: run ./build.sh first (./test.sh does)");
        return Proc.Run(program, args);
    }

    [Fact]
    public void Status_HumanAndJson()
    {
        var (exit, text, _) = Xenvmc("status", "--socket", _socket);
        Assert.Equal(0, exit);
        Assert.Contains("domain 3 on the simulated platform, interface vmc0, 2 peers, 2 connected", text, StringComparison.Ordinal);
        Assert.Contains("198.18.0.2", text, StringComparison.Ordinal);
        Assert.Contains("drop tx_ring_full: 2", text, StringComparison.Ordinal);

        var (jexit, json, _) = Xenvmc("status", "--json", "--socket", _socket);
        Assert.Equal(0, jexit);
        var root = JsonDocument.Parse(json).RootElement;
        Assert.Equal(3, root.GetProperty("domid").GetInt32());
        Assert.Equal(2, root.GetProperty("peers").GetArrayLength());
    }

    [Fact]
    public void Metrics_AreThePrometheusTextOfTheSnapshot_AndPassPromtool()
    {
        string promtool = Proc.Require("promtool", "prometheus");
        var (exit, text, err) = Xenvmc("metrics", "--socket", _socket);
        Assert.True(exit == 0, err);
        Assert.Contains("# TYPE xenvmc_peer_transmit_bytes_total counter\n", text, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^xenvmc_peer_transmit_bytes_total\{peer=""1""\} \d{7}$", text);
        Assert.Contains("xenvmc_peer_drops_total{peer=\"1\",reason=\"tx_ring_full\"} 2\n", text, StringComparison.Ordinal);
        Assert.Contains("xenvmc_peer_state{peer=\"2\",state=\"connected\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("xenvmc_violations_total{kind=\"rx_record\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("xenvmc_tun_drops_total{reason=\"no_peer\"} 4\n", text, StringComparison.Ordinal);
        Assert.Contains("xenvmc_data_thread_passes_total 4242\n", text, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^xenvmc_uptime_seconds (8\d|9\d)(\.\d+)?$", text);

        using var dir = new TempDirectory();
        File.WriteAllText(dir.Combine("metrics.prom"), text);
        var check = Proc.Run(promtool, ["check", "metrics"], timeoutMs: 60_000, stdinFile: dir.Combine("metrics.prom"));
        Assert.True(check.Exit == 0 && check.Out.Length == 0 && check.Err.Length == 0, $"promtool check metrics: exit {check.Exit}\n{check.Out}{check.Err}");
    }

    [Fact]
    public void MetricsOutput_ReplacesTheFileWhole_AndSaysDownWhenNoDaemonAnswers()
    {
        using var dir = new TempDirectory();
        string file = dir.Combine("xenvmc.prom");
        Assert.Equal(0, Xenvmc("metrics", "--socket", _socket, "--output", file).Exit);
        Assert.Contains("xenvmc_up 1\n", File.ReadAllText(file), StringComparison.Ordinal);
        Assert.Equal(["xenvmc.prom"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));

        var (exit, _, _) = Xenvmc("metrics", "--socket", "@xvt-nobody-" + Guid.NewGuid().ToString("N")[..8], "--output", file);
        Assert.Equal(1, exit);
        Assert.Equal("xenvmc_up 0\n", File.ReadAllLines(file).Last() + "\n");
        Assert.Equal(["xenvmc.prom"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));

        var (bad, _, err) = Xenvmc("metrics", "--socket", _socket, "--output", dir.Combine("missing", "x.prom"));
        Assert.Equal(4, bad);
        Assert.Contains("metrics --output", err, StringComparison.Ordinal);
        Assert.Equal(2, Xenvmc("status", "--output", file, "--socket", _socket).Exit);
    }

    [Fact]
    public void StatusCheck_Exit3_WhenAPeerIsNotConnected()
    {
        Assert.Equal(0, Xenvmc("status", "--check", "--socket", _socket).Exit);
        _state2 = "negotiating";
        Assert.Equal(3, Xenvmc("status", "--check", "--socket", _socket).Exit);
        Assert.Equal(0, Xenvmc("status", "--socket", _socket).Exit);
        _state2 = "connected";
        _domid = 0;
        Assert.Equal(3, Xenvmc("status", "--check", "--socket", _socket).Exit);
    }

    [Fact]
    public void Peers_OneLineEach_AndJson()
    {
        var (exit, text, _) = Xenvmc("peers", "--socket", _socket);
        Assert.Equal(0, exit);
        var lines = text.Trim().Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("1 ", lines[1], StringComparison.Ordinal);
        Assert.Contains("1970-01-01 00:00:00", lines[1], StringComparison.Ordinal);

        var peers = JsonDocument.Parse(Xenvmc("peers", "--json", "--socket", _socket).Out).RootElement;
        Assert.Equal(["198.18.0.2"], peers[1].GetProperty("addresses").EnumerateArray().Select(a => a.GetString()));
    }

    [Fact]
    public void Stats_PerPeerAndTotals_AsJson()
    {
        var (exit, json, _) = Xenvmc("stats", "--json", "--socket", _socket);
        Assert.Equal(0, exit);
        var root = JsonDocument.Parse(json).RootElement;
        Assert.Equal(7, root.GetProperty("peers")[1].GetProperty("tx_bytes").GetInt64());
        Assert.Equal(30, root.GetProperty("totals").GetProperty("tx_packets").GetInt64());
        Assert.Equal(2, root.GetProperty("totals").GetProperty("drops").GetProperty("tx_ring_full").GetInt64());
        Assert.Equal(4, root.GetProperty("tun").GetProperty("drops").GetProperty("no_peer").GetInt64());
    }

    [Fact]
    public void StatsWatch_SamplesWithRates()
    {
        var (exit, lines, _) = Xenvmc("stats", "--watch", "0.2", "--count", "3", "--json", "--socket", _socket);
        Assert.Equal(0, exit);
        var samples = lines.Trim().Split('\n').Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(3, samples.Count);
        Assert.False(samples[0].GetProperty("peers")[0].TryGetProperty("tx_bytes_per_second", out _));
        Assert.True(samples[2].GetProperty("peers")[0].GetProperty("tx_bytes_per_second").GetDouble() > 0);

        var (hexit, text, _) = Xenvmc("stats", "--watch", "0.1", "--count", "2", "--socket", _socket);
        Assert.Equal(0, hexit);
        Assert.Equal(2, text.Split('\n').Count(l => l.StartsWith("xenvmc stats", StringComparison.Ordinal)));
        Assert.Contains("TX MBIT/S", text, StringComparison.Ordinal);
    }

    [Fact]
    public void ExitCodes_NotReachableAndUsage()
    {
        var (exit, _, err) = Xenvmc("status", "--socket", "@xvt-nobody-" + Guid.NewGuid().ToString("N")[..8]);
        Assert.Equal(1, exit);
        Assert.Contains("no xenvmc-guest answers", err, StringComparison.Ordinal);

        Assert.Equal(2, Xenvmc("frobnicate").Exit);
        Assert.Equal(2, Xenvmc("status", "--bogus").Exit);
        Assert.Equal(2, Xenvmc("peers", "--watch").Exit);
        Assert.Equal(2, Xenvmc("stats", "--check").Exit);
        Assert.Equal(2, Xenvmc("stats", "--watch", "fast").Exit);
        Assert.Equal(2, Xenvmc().Exit);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("status", "--help")]
    [InlineData("peers", "--help")]
    [InlineData("stats", "--help")]
    [InlineData("routes", "--help")]
    public void Help_EverywhereExits0(params string[] args)
    {
        var (exit, text, _) = Xenvmc(args);
        Assert.Equal(0, exit);
        Assert.Contains("usage: xenvmc", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Version_IsTheProductVersion()
    {
        var (exit, text, _) = Xenvmc("--version");
        Assert.Equal(0, exit);
        Assert.Matches(@"^xenvmc \d+\.\d+\.\d+\n$", text);
    }

    [Fact]
    public void Routes_ListsOnlyProto86Routes_InThisNamespace()
    {
        string program = Path.Combine(RepoRoot.Path, "bin", "xenvmc");
        var (exit, text, err) = Proc.Run("unshare", ["--net", "bash", "-c", $"""
            set -e
            ip link add xvt0 type veth peer name xvt1 && ip link set xvt1 up && ip link set xvt0 up
            ip route add 198.18.90.2/32 dev xvt0 proto {GuestOptions.RouteProtocolNumber}
            ip route add 198.18.91.0/24 dev xvt0
            {program} routes && {program} routes --json
            """]);
        Assert.True(exit == 0, err);
        Assert.Contains("198.18.90.2/32 dev xvt0 proto xenvmc", text, StringComparison.Ordinal);
        Assert.Contains("\"dev\": \"xvt0\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("198.18.91.0", text, StringComparison.Ordinal);
    }
}
