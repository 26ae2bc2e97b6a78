using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace XenVmc.Sim;

/// <summary>Traffic between simulated guests with the standard tools, parsed from their machine-readable output.</summary>
internal static partial class Measure
{
    /// <summary>iperf3 TCP from <paramref name="client"/> to <paramref name="serverAddress"/> in <paramref name="serverNs"/>; Gbit/s received.</summary>
    public static double TcpGbps(string client, string serverNs, string serverAddress, int seconds, int streams = 1)
    {
        var json = Iperf(client, serverNs, serverAddress, ["-t", seconds.ToString(CultureInfo.InvariantCulture), "-P", streams.ToString(CultureInfo.InvariantCulture)], seconds);
        return json.RootElement.GetProperty("end").GetProperty("sum_received").GetProperty("bits_per_second").GetDouble() / 1e9;
    }

    public static JsonDocument Iperf(string client, string serverNs, string serverAddress, IReadOnlyList<string> clientArgs, int seconds)
    {
        const string Port = "5201";
        string pidFile = Path.Combine(Path.GetTempPath(), $"xenvmc-sim-iperf3-{Guid.NewGuid():N}.pid");
        Shell.Run("ip", "netns", "exec", serverNs, "iperf3", "-s", "-1", "-D", "-p", Port, "-B", serverAddress.Contains(':') ? "::" : "0.0.0.0", "-I", pidFile);
        try
        {
            WaitForListener(serverNs, Port);
            var args = new List<string> { "netns", "exec", client, "iperf3", "-c", serverAddress, "-p", Port, "-J" };
            args.AddRange(clientArgs);
            var (exit, output, error) = Shell.Run("ip", args, check: false, TimeSpan.FromSeconds(seconds + 30));
            var json = JsonDocument.Parse(output.Length > 0 ? output : "{}");
            if (exit != 0 || json.RootElement.TryGetProperty("error", out _))
            {
                string reason = json.RootElement.TryGetProperty("error", out var e) ? e.GetString() ?? "" : error;
                throw new IOException($"iperf3 {client} -> {serverAddress} failed: {reason.Trim()}");
            }

            return json;
        }
        finally
        {
            IperfServer.Stop(pidFile);
        }
    }

    /// <summary>iperf3 UDP at full rate with <paramref name="length"/>-byte datagrams; datagrams per second received.</summary>
    public static double UdpPps(string client, string serverNs, string serverAddress, int seconds, int length)
    {
        var json = Iperf(client, serverNs, serverAddress, ["-u", "-b", "0", "-l", length.ToString(CultureInfo.InvariantCulture), "-t", seconds.ToString(CultureInfo.InvariantCulture)], seconds);
        var received = json.RootElement.GetProperty("end").GetProperty("sum_received");
        return received.GetProperty("bytes").GetDouble() / length / received.GetProperty("seconds").GetDouble();
    }

    /// <summary>ping round trips, one by one; returns (median ms, packets lost).</summary>
    public static (double MedianMs, int Lost) PingMedian(string client, string address, int count, double interval = 0.01)
    {
        var (_, output, _) = Shell.Run("ip", ["netns", "exec", client, "ping", "-c", count.ToString(CultureInfo.InvariantCulture), "-i", interval.ToString(CultureInfo.InvariantCulture), "-W", "1", address], check: false, TimeSpan.FromSeconds(count * interval + 10));
        var times = ReplyTime().Matches(output).Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).Order().ToList();
        return (times.Count == 0 ? double.NaN : times[times.Count / 2], count - times.Count);
    }

    /// <summary>sockperf UDP ping-pong with 64-byte messages against a <c>sockperf sr</c> at <paramref name="address"/>:<paramref name="port"/>; median round trip in µs.</summary>
    public static double SockperfMedianUs(string client, string address, int port, int seconds)
    {
        var (exit, output, error) = Shell.Run("ip", ["netns", "exec", client, "sockperf", "pp", "-i", address, "-p", port.ToString(CultureInfo.InvariantCulture), "-m", "64", "-t", seconds.ToString(CultureInfo.InvariantCulture)], check: false, TimeSpan.FromSeconds(seconds + 20));
        var p50 = SockperfMedian().Match(output + error);
        return exit == 0 && p50.Success ? double.Parse(p50.Groups[1].Value, CultureInfo.InvariantCulture) : double.NaN;
    }

    /// <summary>Bytes sent and received on an interface inside a namespace, from <c>ip -s -j link</c>.</summary>
    public static (ulong Rx, ulong Tx) InterfaceBytes(string netns, string name)
    {
        var (exit, output, _) = Shell.Run("ip", ["-n", netns, "-s", "-j", "link", "show", "dev", name], check: false);
        if (exit != 0)
        {
            return (0, 0);
        }

        var stats = JsonDocument.Parse(output).RootElement[0].GetProperty("stats64");
        return (stats.GetProperty("rx").GetProperty("bytes").GetUInt64(), stats.GetProperty("tx").GetProperty("bytes").GetUInt64());
    }

    private static void WaitForListener(string netns, string port)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (DateTime.UtcNow < deadline)
        {
            var (_, output, _) = Shell.Run("ip", ["netns", "exec", netns, "ss", "-Htln", "sport", "= :" + port], check: false);
            if (output.Trim().Length > 0)
            {
                return;
            }

            Thread.Sleep(20);
        }

        throw new TimeoutException($"iperf3 server in {netns} did not listen on port {port}");
    }

    [GeneratedRegex(@"time=([\d.]+) ms")]
    private static partial Regex ReplyTime();

    [GeneratedRegex(@"percentile 50\.000 =\s*([\d.]+)")]
    private static partial Regex SockperfMedian();
}
