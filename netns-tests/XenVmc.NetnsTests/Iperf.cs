using System.Text.Json;

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
            StopServer(pidFile);
        }
    }

    /// <summary>Starts a one-shot iperf3 server on port 5201 in <paramref name="server"/>; returns its pid file.</summary>
    public static string StartServer(string server)
    {
        string pidFile = Path.Combine(Path.GetTempPath(), $"xenvmc-netns-iperf3-{Guid.NewGuid():N}.pid");
        SimHost.ExecOk(server, "iperf3", "-s", "-1", "-D", "-p", "5201", "-I", pidFile);
        return pidFile;
    }

    /// <summary>
    /// Stops the server <see cref="StartServer"/> started, by its own pid: never by name, which would
    /// also kill other iperf3 processes on a shared machine.
    /// </summary>
    public static void StopServer(string pidFile)
    {
        try
        {
            if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out int pid)
                && File.ReadAllText($"/proc/{pid}/comm").Trim() == "iperf3")
            {
                using var process = System.Diagnostics.Process.GetProcessById(pid);
                process.Kill();
                process.WaitForExit(2000);
            }
        }
        catch (Exception e) when (e is IOException or ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Already gone (a one-shot server exits after its test).
        }
        finally
        {
            File.Delete(pidFile);
        }
    }

    public static double ReceivedBitsPerSecond(JsonElement report) =>
        report.GetProperty("end").GetProperty("sum_received").GetProperty("bits_per_second").GetDouble();
}
