using XenVmc.Platform.Hosting;

namespace XenVmc.Sim;

/// <summary>
/// <c>xenvmc-sim daemon start|stop|kill &lt;i&gt;</c> and <c>xenvmc-sim dom0 start|stop|kill</c>:
/// start, cleanly stop (SIGTERM) or kill (SIGKILL, as a crash would) guest i's xenvmc-guest or
/// the xenvmc-dom0 daemon.
/// </summary>
internal static class DaemonCommand
{
    public static async Task<int> RunAsync(string[] args, bool dom0 = false)
    {
        var cl = CommandLine.Parse(args, ["--run-dir"], []);
        var paths = new SimPaths(cl.Get("--run-dir", SimPaths.DefaultRunDirectory));
        string? action;
        string? index = null;
        if (dom0 && cl.Positional is [var a] && a is "start" or "stop" or "kill")
        {
            action = a;
        }
        else if (!dom0 && cl.Positional is [var b, var i] && b is "start" or "stop" or "kill")
        {
            action = b;
            index = i;
        }
        else
        {
            throw new UsageException(dom0 ? "usage: xenvmc-sim dom0 start|stop|kill" : "usage: xenvmc-sim daemon start|stop|kill <guest index>");
        }

        var state = HostState.Load(paths) ?? throw new UsageException("no simulated host is up");
        GuestState? guest = index is null ? null : state.Guest(index);
        string name = guest is null ? "xenvmc-dom0" : $"guest {index}'s daemon";
        string pidFile = paths.PidFile(guest?.Namespace ?? "dom0");
        int? pid = HostServices.PidFromFile(pidFile);
        bool running = pid is int p && HostServices.IsAlive(p);
        switch (action)
        {
            case "stop" when running:
                await HostServices.StopAsync([pid!.Value]);
                return 0;
            case "kill" when running:
                HostServices.Kill(pid!.Value);
                await HostServices.WaitForAsync(() => !HostServices.IsAlive(pid!.Value), TimeSpan.FromSeconds(5), $"{name} to die");
                return 0;
            case "stop" or "kill":
                return 0;
            case "start" when running:
                throw new UsageException($"{name} already runs (pid {pid})");
        }

        if (guest is { Location: GuestLocation.Off })
        {
            throw new UsageException($"guest {index} is off; `xenvmc-sim start {index}` starts its domain and daemon");
        }

        File.Delete(pidFile);
        string bin = Path.GetDirectoryName(Environment.ProcessPath)!;
        if (guest is null)
        {
            HostServices.StartDom0Daemon(paths, bin);
        }
        else
        {
            HostServices.StartGuestDaemon(paths, bin, guest);
        }

        await HostServices.WaitForAsync(() => File.Exists(pidFile), TimeSpan.FromSeconds(10), $"{name} to start");
        return 0;
    }
}
