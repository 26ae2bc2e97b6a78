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

        await StopAsync(pids);
        await StopAsync(PidFromFile(paths.PidFile("host")) is int host ? [host] : []);
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

    public static int? PidFromFile(string path)
    {
        try
        {
            return int.TryParse(File.ReadAllText(path).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int pid) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>SIGTERM, a grace period, then SIGKILL for whatever is left.</summary>
    public static async Task StopAsync(IReadOnlyCollection<int> pids)
    {
        foreach (int pid in pids)
        {
            Signal(pid, "TERM");
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(3);
        while (pids.Any(IsAlive) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        foreach (int pid in pids.Where(IsAlive))
        {
            Signal(pid, "KILL");
        }
    }

    public static void Kill(int pid) => Signal(pid, "KILL");

    public static bool IsAlive(int pid) => Directory.Exists($"/proc/{pid}") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z", StringComparison.Ordinal);

    private static void Signal(int pid, string signal) => Shell.Run("kill", ["-" + signal, pid.ToString(CultureInfo.InvariantCulture)], check: false);
}
