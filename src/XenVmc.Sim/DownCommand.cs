using System.Globalization;
using XenVmc.Platform.Hosting;

namespace XenVmc.Sim;

/// <summary>
/// <c>xenvmc-sim down</c>: stops every process of the simulated host, deletes its namespaces and
/// links, and removes its sockets and shared-memory files. Safe to run twice, or after a crash:
/// it looks for what exists rather than trusting what <c>up</c> recorded.
/// </summary>
internal static class DownCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var cl = CommandLine.Parse(args, ["--run-dir"], []);
        var paths = new SimPaths(cl.Get("--run-dir", SimPaths.DefaultRunDirectory));
        var namespaces = ListNamespaces();

        // Daemons first (they withdraw routes and XenStore nodes on SIGTERM), the host last.
        var pids = new HashSet<int>();
        foreach (string ns in namespaces)
        {
            pids.UnionWith(NamespacePids(ns));
        }

        await HostServices.StopAsync(pids);
        await HostServices.StopAsync(HostServices.PidFromFile(paths.PidFile("host")) is int host ? [host] : []);
        foreach (string ns in namespaces)
        {
            Shell.Run("ip", ["netns", "del", ns], check: false);
        }

        if (Directory.Exists(paths.Run))
        {
            Directory.Delete(paths.Run, recursive: true);
        }

        if (Directory.Exists(SimPaths.SharedMemoryDirectory))
        {
            Directory.Delete(SimPaths.SharedMemoryDirectory, recursive: true);
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"simulated host down: {namespaces.Count} namespaces removed"));
        return 0;
    }

    public static List<string> ListNamespaces()
    {
        var (exit, output, _) = Shell.Run("ip", ["netns", "list"], check: false);
        if (exit != 0)
        {
            return [];
        }

        return [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ')[0])
            .Where(name => name.StartsWith(SimPaths.NamespacePrefix, StringComparison.Ordinal))];
    }

    private static IEnumerable<int> NamespacePids(string ns)
    {
        var (exit, output, _) = Shell.Run("ip", ["netns", "pids", ns], check: false);
        return exit != 0 ? [] : output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) ? pid : 0)
            .Where(pid => pid > 0);
    }

}
