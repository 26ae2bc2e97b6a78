namespace XenVmc.NetnsTests;

/// <summary>
/// gntalloc's per-domain limit on the simulated host (its default, 1024 pages): a channel with
/// 512 KiB rings grants 257 pages, so guest 1, the low side towards four higher domids, can offer
/// three channels; the fourth peer waits on eth0 in state "no grant budget" and pairs when one of
/// the others leaves.
/// </summary>
public sealed class GrantBudgetTests
{
    private const string NoBudget = "no grant budget";

    [Fact]
    public void PeersBeyondTheBudget_StayOnEth0_AndPairWhenAChannelIsReleased()
    {
        // --wait 0: up waits for every pair, which the budget rules out here.
        using var host = SimHost.Up("--guests", "5", "--wait", "0");
        Assert.True(SimHost.WaitUntil(() => States().Count(s => s.Value == "connected") == 3 && States().Count(s => s.Value == NoBudget) == 1, TimeSpan.FromSeconds(30)),
            $"guest 1 did not settle at 3 channels and 1 peer without budget: {Describe()}\n{SimHost.Logs()}");

        ushort waiting = States().Single(s => s.Value == NoBudget).Key;
        Assert.Equal("eth0", SimHost.RouteDevice("xvmc-g1", Address(waiting)));
        SimHost.ExecOk("xvmc-g1", "ping", "-c", "2", "-i", "0.2", "-W", "1", Address(waiting));
        Assert.Contains(NoBudget, SimHost.ExecOk("xvmc-g1", Path.Combine(SimHost.Bin, "xenvmc"), "status"));

        // One log line for the waiting peer, not one per attempt: wait a while to give a loop time to show.
        Thread.Sleep(2000);
        Assert.Equal(1, GuestOneLog().Split('\n').Count(l => l.Contains($"peer {waiting}: no grant budget", StringComparison.Ordinal)));

        ushort leaving = States().First(s => s.Value == "connected").Key;
        SimHost.Sim("daemon", "stop", leaving.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(SimHost.WaitUntil(() => States().GetValueOrDefault(waiting) == "connected" && SimHost.RouteDevice("xvmc-g1", Address(waiting)) == "vmc0", TimeSpan.FromSeconds(15)),
            $"peer {waiting} did not pair after peer {leaving} left: {Describe()}\n{SimHost.Logs()}");
        Assert.DoesNotContain(NoBudget, States().Values);
    }

    /// <summary>Guest 1's peers and their states; none while its daemon does not answer yet (up does not wait here).</summary>
    private static Dictionary<ushort, string> States()
    {
        var (exit, output, _) = SimHost.Exec("xvmc-g1", Path.Combine(SimHost.Bin, "xenvmc"), "status", "--json");
        return exit != 0 ? [] : System.Text.Json.JsonDocument.Parse(output).RootElement.GetProperty("peers").EnumerateArray()
            .ToDictionary(p => (ushort)p.GetProperty("domid").GetInt32(), p => p.GetProperty("state").GetString() ?? "");
    }

    private static string Describe() => string.Join(", ", States().Select(s => $"{s.Key}: {s.Value}"));

    private static string Address(ushort domid) => $"198.18.0.{domid}";

    private static string GuestOneLog() => File.ReadAllText("/run/xenvmc-sim/logs/xvmc-g1.log");
}
