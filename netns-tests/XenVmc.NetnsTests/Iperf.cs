using System.Text.Json;
using XenVmc.Sim;

namespace XenVmc.NetnsTests;

/// <summary>iperf3 between two simulated guests, bounded in time, with its JSON report.</summary>
internal static class Iperf
{
    public static JsonElement Run(string client, string server, string address, params string[] clientArgs)
    {
        string pidFile = StartServer(server);
        try
        {
            Assert.True(SimHost.WaitUntil(() => SimHost.Exec(server, "ss", "-Htln", "sport", "= :5201").Output.Trim().Length > 0, TimeSpan.FromSeconds(5)), "iperf3 server did not start");
            var (exit, output, error) = SimHost.Exec(client, ["iperf3", "-c", address, "-p", "5201", "-J", .. clientArgs]);
            var json = JsonDocument.Parse(output.Length > 0 ? output : "{}").RootElement;
            Assert.True(exit == 0 && !json.TryGetProperty("error", out _), $"iperf3 {client} -> {address} failed: {output}{error}\n{SimHost.Logs()}");
            return json;
        }
        finally
        {
            IperfServer.Stop(pidFile);
        }
    }

    /// <summary>Starts a one-shot iperf3 server on port 5201 in <paramref name="server"/>; returns its pid file.</summary>
    public static string StartServer(string server)
    {
        string pidFile = Path.Combine(Path.GetTempPath(), $"xenvmc-netns-iperf3-{Guid.NewGuid():N}.pid");
        SimHost.ExecOk(server, "iperf3", "-s", "-1", "-D", "-p", "5201", "-I", pidFile);
        return pidFile;
    }

    public static double ReceivedBitsPerSecond(JsonElement report) =>
        report.GetProperty("end").GetProperty("sum_received").GetProperty("bits_per_second").GetDouble();
}
