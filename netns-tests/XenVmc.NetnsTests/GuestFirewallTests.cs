namespace XenVmc.NetnsTests;

/// <summary>vmc0 is no side door: a guest whose nft rules name eth0 and not vmc0 is told so, in the log and in <c>xenvmc status</c>.</summary>
public sealed class GuestFirewallTests
{
    private const string G1 = "xvmc-g1";

    [Fact]
    public void RulesForEth0Only_AreReportedAtStart_RulesForBoth_AreNot()
    {
        using var host = SimHost.Up("--guests", "2");
        Assert.False(SimHost.Status(G1).TryGetProperty("firewall_warning", out var none) && none.ValueKind == System.Text.Json.JsonValueKind.String, "a warning without any guest rules");

        SimHost.ExecOk(G1, "nft", "add", "table", "inet", "xvmc_test");
        SimHost.ExecOk(G1, "nft", "add", "chain", "inet", "xvmc_test", "input", "{ type filter hook input priority 0; policy accept; }");
        SimHost.ExecOk(G1, "nft", "add", "rule", "inet", "xvmc_test", "input", "iifname", "eth0", "tcp", "dport", "5201", "drop");
        SimHost.Sim("daemon", "stop", "1");
        SimHost.Sim("daemon", "start", "1");
        Assert.True(SimHost.WaitUntil(() => Warning() is not null, TimeSpan.FromSeconds(10)), "no firewall warning\n" + SimHost.Logs());
        Assert.StartsWith("1 nft rules name eth0 and not vmc0 (0 name vmc0 alone), e.g. 'inet xvmc_test input handle", Warning());
        Assert.Contains("warning: 1 nft rules name eth0", SimHost.ExecOk(G1, Path.Combine(SimHost.Bin, "xenvmc"), "status"));
        Assert.Contains("the guest's firewall has a side door", File.ReadAllText("/run/xenvmc-sim/logs/xvmc-g1.log"));

        // Naming vmc0 beside eth0, as README advises, is enough.
        SimHost.ExecOk(G1, "nft", "flush", "chain", "inet", "xvmc_test", "input");
        SimHost.ExecOk(G1, "nft", "add", "rule", "inet", "xvmc_test", "input", "iifname", "{", "eth0,", "vmc0", "}", "tcp", "dport", "5201", "drop");
        SimHost.Sim("daemon", "stop", "1");
        SimHost.Sim("daemon", "start", "1");
        Assert.True(SimHost.WaitUntil(() => SimHost.RouteDevice(G1, "198.18.0.2") == "vmc0", TimeSpan.FromSeconds(10)));
        Thread.Sleep(500);
        Assert.Null(Warning());
    }

    private static string? Warning() =>
        SimHost.Status(G1).TryGetProperty("firewall_warning", out var w) && w.ValueKind == System.Text.Json.JsonValueKind.String ? w.GetString() : null;
}
