using System.Globalization;
using XenVmc.Platform.Hosting;

namespace XenVmc.Sim;

/// <summary>
/// <c>xenvmc-sim demo</c>: XenVMC's main job on the simulated host. Two guests, measured over
/// the plain bridge path and then through the XenVMC bypass, in one run on one machine; prints
/// both figures and their ratio, and the counters that prove which path the bytes took.
/// </summary>
internal static class DemoCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var cl = CommandLine.Parse(args, ["--seconds", "--run-dir"], []);
        int seconds = cl.GetInt("--seconds", 5, 1, 120);
        string[] runDir = cl.Get("--run-dir") is { } dir ? ["--run-dir", dir] : [];
        await DownCommand.RunAsync(runDir);
        var inv = CultureInfo.InvariantCulture;
        var results = new List<Result>();
        foreach (bool bypass in new[] { false, true })
        {
            string[] up = bypass ? ["--guests", "2"] : ["--guests", "2", "--no-bypass"];
            await UpCommand.RunAsync([.. up, .. runDir]);
            try
            {
                var eth0Before = Measure.InterfaceBytes("xvmc-g1", "eth0");
                var vmc0Before = Measure.InterfaceBytes("xvmc-g1", "vmc0");
                var route = string.Join(' ', Shell.Run("ip", "-n", "xvmc-g1", "route", "get", "198.18.0.2").Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries).Take(3));
                double tcp = Measure.TcpGbps("xvmc-g1", "xvmc-g2", "198.18.0.2", seconds);
                var (rtt, lost) = Measure.Ping("xvmc-g1", "198.18.0.2", 200);
                var eth0 = Measure.InterfaceBytes("xvmc-g1", "eth0");
                var vmc0 = Measure.InterfaceBytes("xvmc-g1", "vmc0");
                results.Add(new Result(bypass ? "XenVMC bypass" : "bridge path", route, tcp, rtt, lost,
                    eth0.Tx - eth0Before.Tx, vmc0.Tx - vmc0Before.Tx));
            }
            finally
            {
                await DownCommand.RunAsync(runDir);
            }
        }

        Console.WriteLine();
        Console.WriteLine(string.Create(inv, $"iperf3 TCP g1 -> g2 ({seconds} s) and ping (200 x 10 ms), same machine, one run"));
        Console.WriteLine(string.Create(inv, $"{"path",-14} {"TCP Gbit/s",11} {"ping avg ms",12} {"lost",5} {"eth0 tx MB",11} {"vmc0 tx MB",11}  route"));
        foreach (var r in results)
        {
            Console.WriteLine(string.Create(inv, $"{r.Path,-14} {r.TcpGbps,11:0.00} {r.PingMs,12:0.000} {r.Lost,5} {r.Eth0Tx / 1e6,11:0.0} {r.Vmc0Tx / 1e6,11:0.0}  {r.Route}"));
        }

        var (bridge, xenvmc) = (results[0], results[1]);
        Console.WriteLine(string.Create(inv, $"bypass / bridge: TCP throughput {xenvmc.TcpGbps / bridge.TcpGbps:0.00}x, ping latency {xenvmc.PingMs / bridge.PingMs:0.00}x"));
        return 0;
    }

    private sealed record Result(string Path, string Route, double TcpGbps, double PingMs, int Lost, ulong Eth0Tx, ulong Vmc0Tx);
}
