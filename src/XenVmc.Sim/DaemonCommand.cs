using System.Globalization;
using XenVmc.Platform.Hosting;

namespace XenVmc.Sim;

/// <summary><c>xenvmc-sim daemon start|stop &lt;i&gt;</c>: starts or cleanly stops (SIGTERM) guest i's xenvmc-guest.</summary>
internal static class DaemonCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var cl = CommandLine.Parse(args, ["--run-dir"], []);
        var paths = new SimPaths(cl.Get("--run-dir", SimPaths.DefaultRunDirectory));
        if (cl.Positional is not [var action and ("start" or "stop"), var index])
        {
            throw new UsageException("usage: xenvmc-sim daemon start|stop <guest index>");
        }

        var state = HostState.Load(paths) ?? throw new UsageException("no simulated host is up");
        var guest = state.Guests.FirstOrDefault(g => g.Index.ToString(CultureInfo.InvariantCulture) == index)
            ?? throw new UsageException($"no guest {index} (this host has {state.Guests.Count})");
        string pidFile = paths.PidFile(guest.Namespace);
        int? pid = DownCommand.PidFromFile(pidFile);
        if (action == "stop")
        {
            if (pid is int running)
            {
                await DownCommand.StopAsync([running]);
            }

            return 0;
        }

        if (pid is int alive && Directory.Exists($"/proc/{alive}"))
        {
            throw new UsageException($"guest {index}'s daemon already runs (pid {alive})");
        }

        string bin = Path.GetDirectoryName(Environment.ProcessPath)!;
        UpCommand.StartGuestDaemon(paths, bin, guest);
        await UpCommand.WaitForAsync(() => File.Exists(pidFile), TimeSpan.FromSeconds(10), $"guest {index}'s daemon to start");
        return 0;
    }
}
