using XenVmc.Platform.Hosting;

namespace XenVmc.Sim;

/// <summary>
/// <c>xenvmc-sim migrate &lt;i&gt; --away|--back</c>, <c>shutdown &lt;i&gt;</c>, <c>destroy &lt;i&gt;</c>,
/// <c>start &lt;i&gt;</c>: the toolstack's domain life cycle on the simulated hosts.
/// </summary>
internal static class LifecycleCommand
{
    public static async Task<int> RunAsync(string command, string[] args)
    {
        var cl = CommandLine.Parse(args, ["--run-dir"], ["--away", "--back"]);
        var paths = new SimPaths(cl.Get("--run-dir", SimPaths.DefaultRunDirectory));
        if (cl.Positional is not [var index])
        {
            throw new UsageException($"usage: xenvmc-sim {command} <guest index>{(command == "migrate" ? " --away|--back" : "")}");
        }

        var state = HostState.Load(paths) ?? throw new UsageException("no simulated host is up");
        var guest = state.Guest(index);
        string before = Lifecycle.Describe(guest);
        state = command switch
        {
            "migrate" when cl.Has("--away") && !cl.Has("--back") => await Lifecycle.MigrateAsync(paths, state, guest, GuestLocation.Remote),
            "migrate" when cl.Has("--back") && !cl.Has("--away") => await Lifecycle.MigrateAsync(paths, state, guest, GuestLocation.Local),
            "migrate" => throw new UsageException("migrate takes exactly one of --away (to the remote host) and --back"),
            "shutdown" => await Lifecycle.ShutdownAsync(paths, state, guest),
            "destroy" => await Lifecycle.DestroyAsync(paths, state, guest),
            "start" => await Lifecycle.StartAsync(paths, state, guest, Path.GetDirectoryName(Environment.ProcessPath)!),
            _ => throw new UsageException($"unknown command '{command}'"),
        };
        Console.WriteLine($"guest {index} ({guest.Namespace}): {before} -> {Lifecycle.Describe(state.Guest(index))}");
        return 0;
    }
}
