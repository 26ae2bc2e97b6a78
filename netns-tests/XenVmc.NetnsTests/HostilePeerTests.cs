using System.Text.Json;
using Xunit.Abstractions;

namespace XenVmc.NetnsTests;

/// <summary>
/// A co-resident peer that breaks the protocol in its shared pages: the victim's daemon cuts it
/// off (counted by reason, logged once), routes it through eth0 again, and keeps serving its
/// other peer without losing a packet.
/// </summary>
public sealed class HostilePeerTests(ITestOutputHelper output)
{
    private const string G1 = "xvmc-g1";
    private const string G2 = "xvmc-g2";
    private const string G3 = "xvmc-g3";

    [Fact]
    public async Task HostilePeer_IsDisconnectedForEachCorruption_WhileTheThirdGuestLosesNothing()
    {
        using var host = SimHost.Up("--guests", "3");
        SimHost.Sim("daemon", "stop", "2");
        Assert.True(SimHost.WaitUntil(() => SimHost.RouteDevice(G1, "198.18.0.2") == "eth0", TimeSpan.FromSeconds(5)), "g1 still routes g2 via vmc0 after g2's daemon stopped");
        string log = "/run/xenvmc-sim/logs/xvmc-g1.log";
        int violationLinesBefore = CountLines(log, "protocol violation");
        ulong vmc0Before = SimHost.Bytes(G1, "vmc0").Tx;

        // g1 <-> g3 through the same daemon for the whole attack (6 rounds of about 6 s each).
        var pinger = Pinger.Start(G1, "198.18.0.3", count: 1500, interval: 0.02);
        string[] attacks = ["prod-index", "record-length", "header", "source", "garbage"];
        var (exit, text, error) = await Task.Run(() => SimHost.Exec(G2, Path.Combine(SimHost.Bin, "xenvmc-sim"), "hostile", "2", "--victim", "1", "--attacks", string.Join(',', attacks)));
        output.WriteLine(text);
        var ping = pinger.Wait();
        output.WriteLine($"g1 -> g3 during the attacks: {ping}");
        Assert.True(exit == 0, $"hostile peer exited {exit}: {text}{error}\n{SimHost.Logs()}");

        var rounds = JsonDocument.Parse(text.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]).RootElement.EnumerateArray().ToList();
        Assert.Equal(attacks, rounds.Select(r => r.GetProperty("attack").GetString()));
        foreach (var round in rounds)
        {
            string name = round.GetProperty("attack").GetString()!;
            Assert.True(round.GetProperty("victim_route_before").GetString() == "vmc0", $"{name}: the victim did not route the hostile peer via vmc0 before the attack");
            Assert.True(round.GetProperty("echoes_answered").GetInt32() == round.GetProperty("echoes_sent").GetInt32(), $"{name}: the channel did not carry traffic before the attack");
            Assert.True(round.GetProperty("disconnected").GetBoolean(), $"{name}: the victim did not disconnect");
            Assert.Equal("eth0", round.GetProperty("victim_route_after").GetString());
        }

        // The victim's daemon still runs and counted each cut by its reason, logging each once.
        var status = SimHost.Status(G1);
        var violations = status.GetProperty("totals").GetProperty("violations");
        output.WriteLine("g1 violations: " + violations);
        foreach (string reason in new[] { "rx_producer_index", "rx_record", "malformed_packet", "spoofed_source" })
        {
            Assert.True(violations.GetProperty(reason).GetInt64() >= 1, $"no {reason} violation counted: {violations}");
        }

        long total = violations.EnumerateObject().Sum(p => p.Value.GetInt64());
        Assert.Equal(attacks.Length, total);
        Assert.Equal(attacks.Length, CountLines(log, "protocol violation") - violationLinesBefore);

        // Nothing the hostile peer sent after its first broken rule reached g1's stack: only the
        // echo requests of each round were delivered.
        long delivered = status.GetProperty("peers").EnumerateArray().Where(p => p.GetProperty("domid").GetInt32() == 2).Sum(p => p.GetProperty("rx_packets").GetInt64());
        Assert.True(delivered <= rounds.Sum(r => r.GetProperty("echoes_sent").GetInt32()), $"g1 delivered {delivered} packets from the hostile peer");

        // Its traffic falls back to eth0 and still flows; the third guest never noticed.
        Assert.Equal("eth0", SimHost.RouteDevice(G1, "198.18.0.2"));
        SimHost.ExecOk(G1, "ping", "-n", "-c", "3", "-i", "0.2", "-W", "1", "198.18.0.2");
        Assert.True(ping.Sent >= 1000 && ping.Lost.Count == 0, $"g1 -> g3 lost packets during the attacks: {ping}");
        Assert.Equal("vmc0", SimHost.RouteDevice(G1, "198.18.0.3"));
        Assert.Equal("vmc0", SimHost.RouteDevice(G3, "198.18.0.1"));
        var g3 = status.GetProperty("peers").EnumerateArray().Single(p => p.GetProperty("domid").GetInt32() == 3);
        Assert.Equal("connected", g3.GetProperty("state").GetString());
        Assert.True(g3.GetProperty("rx_packets").GetInt64() >= ping.Received, $"g1 received {g3.GetProperty("rx_packets")} packets from g3 through the ring, fewer than the {ping.Received} echo replies");
        ulong vmc0Bytes = SimHost.Bytes(G1, "vmc0").Tx - vmc0Before;
        output.WriteLine($"g1 vmc0 tx during the attacks: {vmc0Bytes} bytes");
        Assert.True(vmc0Bytes >= (ulong)ping.Sent * 84, $"only {vmc0Bytes} bytes left g1 through vmc0");
    }

    [Fact]
    public void UnpairedGuest_OfferingAChannel_GetsNothing()
    {
        // g1 is alone on xenbr1: Dom0 pairs it with nobody. It offers g2 a channel anyway,
        // through the real offer code (grants, port, nodes readable by g2).
        using var host = SimHost.Up("--guests", "3", "--bridges", "xenbr1,xenbr0,xenbr0");
        SimHost.Sim("daemon", "stop", "1");
        var (exit, text, error) = SimHost.Exec(G1, Path.Combine(SimHost.Bin, "xenvmc-sim"), "hostile", "1", "--victim", "2", "--unpaired", "--timeout", "5");
        output.WriteLine(text + error);
        Assert.True(exit == 0, $"g2 took a channel from a guest Dom0 did not pair it with: {text}{error}");
        Assert.Contains("not in our peer table", text, StringComparison.Ordinal);
        var g2 = SimHost.Status(G2);
        Assert.DoesNotContain(g2.GetProperty("peers").EnumerateArray(), p => p.GetProperty("domid").GetInt32() == 1);
        Assert.Equal("eth0", SimHost.RouteDevice(G2, "198.18.0.1"));
        Assert.Equal("vmc0", SimHost.RouteDevice(G2, "198.18.0.3"));
    }

    [Fact]
    public void GarbageDomid_IsLoggedOnceAndWaitedOut_TheDaemonKeepsRunningAndPairsAgain()
    {
        using var host = SimHost.Up("--guests", "2");
        Assert.Equal("vmc0", SimHost.RouteDevice(G1, "198.18.0.2"));
        string log = "/run/xenvmc-sim/logs/xvmc-g1.log";

        // The toolstack's own key, as a broken or hostile store could hold it.
        SimHost.Xenstore("xenstore-write", "/local/domain/1/domid", "not-a-number");
        Assert.True(SimHost.WaitUntil(() => CountLines(log, "holds 'not-a-number', not a domain id") == 1, TimeSpan.FromSeconds(10)), $"no log line for the garbage domid\n{SimHost.Logs()}");
        Assert.True(SimHost.WaitUntil(() => SimHost.RouteDevice(G1, "198.18.0.2") == "eth0", TimeSpan.FromSeconds(5)), "g1 kept its bypass route without a session");
        Thread.Sleep(3000);
        Assert.Equal(1, CountLines(log, "holds 'not-a-number', not a domain id"));
        Assert.Equal(0, SimHost.Status(G1).GetProperty("peers").GetArrayLength());

        SimHost.Xenstore("xenstore-write", "/local/domain/1/domid", "1");
        Assert.True(SimHost.WaitUntil(() => SimHost.RouteDevice(G1, "198.18.0.2") == "vmc0", TimeSpan.FromSeconds(15)), $"g1 did not pair again once its domid was readable\n{SimHost.Logs()}");
        SimHost.ExecOk(G1, "ping", "-c", "3", "-i", "0.2", "-W", "2", "198.18.0.2");
    }

    private static int CountLines(string path, string text) =>
        File.Exists(path) ? File.ReadLines(path).Count(l => l.Contains(text, StringComparison.Ordinal)) : 0;
}
