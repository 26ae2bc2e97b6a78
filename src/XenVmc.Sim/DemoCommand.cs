using System.Diagnostics;
using System.Globalization;
using XenVmc.Platform.Hosting;

namespace XenVmc.Sim;

/// <summary>
/// <c>xenvmc-sim demo</c>: XenVMC's main job on the simulated host. One host with two guests;
/// from guest 1 to guest 2 over the plain bridge path, the XenVMC bypass and the TUN copier
/// reference, back to back in the same minute: TCP throughput, UDP packet rate and latency,
/// the ratios, and the counters that prove which path the bytes took.
/// </summary>
/// <remarks>
/// The paths are told apart by address, as in <c>netns-tests/bench.sh</c>: 198.18.0.2 is in the
/// peer tables (route via vmc0), 198.19.0.2 is a second address on eth0 that no peer table lists
/// (veth, bridge, veth), 198.19.1.2 is the copier's ref0. Every tool is checked before anything
/// starts, so a missing one stops the demo with the package to install instead of a NaN.
/// </remarks>
internal static class DemoCommand
{
    private const int UdpLength = 1400;
    private const int SockperfPort = 11111;
    private const string Client = "xvmc-g1";
    private const string Server = "xvmc-g2";

    private static readonly Prerequisites.Tool[] Tools =
    [
        .. Prerequisites.Host,
        new("iperf3", "iperf3", "TCP throughput and UDP packet rate"),
        new("ping", "iputils-ping", "latency"),
    ];

    public static async Task<int> RunAsync(string[] args)
    {
        var cl = CommandLine.Parse(args, ["--seconds", "--run-dir"], []);
        int seconds = cl.GetInt("--seconds", 5, 1, 120);
        string[] runDir = cl.Get("--run-dir") is { } dir ? ["--run-dir", dir] : [];
        Prerequisites.Require("the demo", Tools);
        var clock = Stopwatch.StartNew();
        bool sockperf = Prerequisites.Has("sockperf");
        var inv = CultureInfo.InvariantCulture;

        Console.WriteLine("""
            The simulated host: each guest is a network namespace whose eth0 is a veth on a Linux bridge
            in xvmc-dom0, so the "bridge path" here is the kernel moving a packet between two veths inside
            one machine. It is not Xen's netfront/netback: no hypervisor, no grant copies, no event
            channels, no Dom0 scheduling, so it is far cheaper than the path XenVMC replaces on a real
            Xen host. The bypass is the real XenVMC data path (daemons, TUN vmc0, shared-memory rings).
            """);
        await DownCommand.RunAsync(runDir);
        var results = new List<Result>();
        string? skipped = null;
        await UpCommand.RunAsync(["--guests", "2", .. runDir]);
        Process? sockperfServer = null;
        ReferencePath? reference = null;
        try
        {
            Shell.Run("ip", "-n", Client, "addr", "add", "198.19.0.1/24", "dev", "eth0");
            Shell.Run("ip", "-n", Server, "addr", "add", "198.19.0.2/24", "dev", "eth0");
            var paths = new List<(string Name, string Address, string Device)>
            {
                ("bridge", "198.19.0.2", "eth0"),
                ("XenVMC bypass", "198.18.0.2", "vmc0"),
            };
            reference = ReferencePath.TryStart(Client, Server, out string reason);
            if (reference is null)
            {
                skipped = reason;
            }
            else
            {
                paths.Add(("TUN copier", ReferencePath.Address(2), ReferencePath.Device));
            }

            foreach (var (name, address, device) in paths)
            {
                string route = RouteDevice(address);
                if (route != device)
                {
                    throw new IOException($"{address} should route via {device} for the {name} path but routes via {route}");
                }
            }

            if (sockperf)
            {
                sockperfServer = StartSockperfServer();
            }

            // Not measured: the daemons' data path starts as unoptimized JIT code.
            Measure.TcpGbps(Client, Server, "198.18.0.2", 2);
            foreach (var (name, address, _) in paths)
            {
                var before = Counters();
                double tcp = Measure.TcpGbps(Client, Server, address, seconds);
                double pps = Measure.UdpPps(Client, Server, address, Math.Max(1, seconds / 2 + 1), UdpLength);
                var (ping, lost) = Measure.PingMedian(Client, address, 200);
                double sockperfUs = sockperf ? Measure.SockperfMedianUs(Client, address, SockperfPort, 2) : double.NaN;
                var after = Counters();
                results.Add(new Result(name, tcp, pps, ping, lost, sockperfUs, [.. after.Zip(before, (a, b) => a - b)]));
            }
        }
        finally
        {
            reference?.Dispose();
            if (sockperfServer is not null)
            {
                sockperfServer.Kill();
                sockperfServer.WaitForExit(2000);
                sockperfServer.Dispose();
            }

            await DownCommand.RunAsync(runDir);
        }

        Console.WriteLine();
        Console.WriteLine(string.Create(inv, $"g1 -> g2: iperf3 TCP ({seconds} s), iperf3 UDP {UdpLength} B datagrams at full rate, ping (200 x 10 ms){(sockperf ? ", sockperf UDP ping-pong 64 B (2 s)" : "")}"));
        Console.WriteLine(string.Create(inv, $"{"path",-14} {"TCP Gbit/s",10} {"UDP kpkt/s",10} {"ping p50 ms",11} {"lost",4} {"sockperf p50 us",15} {"eth0 MB",8} {"vmc0 MB",8} {"ref0 MB",8}"));
        foreach (var r in results)
        {
            Console.WriteLine(string.Create(inv, $"{r.Path,-14} {r.TcpGbps,10:0.00} {r.UdpPps / 1000,10:0.0} {r.PingMs,11:0.000} {r.Lost,4} {(sockperf ? r.SockperfUs.ToString("0.0", inv) : "-"),15} {r.Tx[0] / 1e6,8:0.0} {r.Tx[1] / 1e6,8:0.0} {r.Tx[2] / 1e6,8:0.0}"));
        }

        Console.WriteLine(Ratio(results[1], results[0], sockperf));
        if (results.Count > 2)
        {
            Console.WriteLine(Ratio(results[2], results[0], sockperf));
            Console.WriteLine(Ratio(results[1], results[2], sockperf));
        }
        else
        {
            Console.WriteLine($"TUN copier reference skipped: {skipped}");
        }

        if (!sockperf)
        {
            Console.WriteLine("sockperf p50 skipped: sockperf is not installed (apt-get install -y sockperf)");
        }

        Console.WriteLine(string.Create(inv, $"demo took {clock.Elapsed.TotalSeconds:0} s"));
        return 0;
    }

    private static string Ratio(Result a, Result b, bool sockperf)
    {
        string text = string.Create(CultureInfo.InvariantCulture,
            $"{a.Path} / {b.Path}: TCP {a.TcpGbps / b.TcpGbps:0.00}x, UDP packet rate {a.UdpPps / b.UdpPps:0.00}x, ping p50 {a.PingMs / b.PingMs:0.00}x");
        return sockperf ? text + string.Create(CultureInfo.InvariantCulture, $", sockperf p50 {a.SockperfUs / b.SockperfUs:0.00}x") : text;
    }

    private static string RouteDevice(string address)
    {
        var words = Shell.Run("ip", "-n", Client, "route", "get", address).Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
        int dev = Array.IndexOf(words, "dev");
        return dev >= 0 && dev + 1 < words.Length ? words[dev + 1] : "?";
    }

    /// <summary>Bytes sent by guest 1 on eth0, vmc0 and ref0: the proof of the path taken.</summary>
    private static ulong[] Counters() =>
        [Measure.InterfaceBytes(Client, "eth0").Tx, Measure.InterfaceBytes(Client, "vmc0").Tx, Measure.InterfaceBytes(Client, ReferencePath.Device).Tx];

    private static Process StartSockperfServer()
    {
        var info = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in new[] { "netns", "exec", Server, "sockperf", "sr", "-i", "0.0.0.0", "-p", SockperfPort.ToString(CultureInfo.InvariantCulture) })
        {
            info.ArgumentList.Add(arg);
        }

        var server = Process.Start(info) ?? throw new IOException("could not start sockperf");
        server.OutputDataReceived += (_, _) => { };
        server.ErrorDataReceived += (_, _) => { };
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (Shell.Run("ip", ["netns", "exec", Server, "ss", "-Hlnu", "sport", "= :" + SockperfPort.ToString(CultureInfo.InvariantCulture)], check: false).Output.Trim().Length == 0)
        {
            if (DateTime.UtcNow > deadline || server.HasExited)
            {
                server.Kill();
                server.Dispose();
                throw new IOException($"sockperf server in {Server} did not listen on UDP port {SockperfPort}");
            }

            Thread.Sleep(50);
        }

        return server;
    }

    private sealed record Result(string Path, double TcpGbps, double UdpPps, double PingMs, int Lost, double SockperfUs, ulong[] Tx);
}
