using System.Text.Json;

namespace XenVmc.NetnsTests;

/// <summary>iperf3 between two simulated guests, bounded in time, with its JSON report.</summary>
internal static class Iperf
{
    public static JsonElement Run(string client, string server, string address, params string[] clientArgs)
    {
        SimHost.ExecOk(server, "iperf3", "-s", "-1", "-D", "-p", "5201");
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
            SimHost.Exec(server, "pkill", "-x", "iperf3");
        }
    }

    public static double ReceivedBitsPerSecond(JsonElement report) =>
        report.GetProperty("end").GetProperty("sum_received").GetProperty("bits_per_second").GetDouble();
}
