using System.Globalization;
using System.Text.Json;

namespace XenVmc.Sim;

/// <summary>
/// What the commands share about a simulated host's processes and routes: starting its daemons,
/// finding, waiting for and stopping processes, and reading a namespace's bypass routes.
/// Commands call this (and <see cref="Lifecycle"/>, <see cref="Shell"/>), never each other.
/// </summary>
internal static class HostServices
{
    public static void StartDom0Daemon(SimPaths paths, string bin) =>
        Shell.StartDetached(SimPaths.Dom0Namespace, paths.LogFile("dom0"), Path.Combine(bin, "xenvmc-dom0"), "--store", paths.StoreSocket, "--pid-file", paths.PidFile("dom0"));

    public static void StartGuestDaemon(SimPaths paths, string bin, GuestState guest) =>
        Shell.StartDetached(guest.Namespace, paths.LogFile(guest.Namespace), Path.Combine(bin, "xenvmc-guest"),
            "--platform", "sim", "--xenbus", paths.GuestXenbus(guest.Namespace), "--hypervisor", paths.GuestHypervisor(guest.Namespace),
            "--pid-file", paths.PidFile(guest.Namespace));

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

    public static async Task WaitForAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"waited {timeout.TotalSeconds:0} s for {what}; see the logs under {SimPaths.DefaultRunDirectory}/logs");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Destinations routed through vmc0 in a namespace, from <c>ip -j route</c>.</summary>
    public static HashSet<string> BypassRoutes(string netns)
    {
        var result = new HashSet<string>();
        foreach (string family in new[] { "-4", "-6" })
        {
            var (exit, output, _) = Shell.Run("ip", ["-n", netns, "-j", family, "route", "show", "table", "all", "proto", "86", "dev", "vmc0"], check: false);
            if (exit != 0 || string.IsNullOrWhiteSpace(output))
            {
                continue;
            }

            foreach (var route in JsonDocument.Parse(output).RootElement.EnumerateArray())
            {
                if (route.TryGetProperty("dst", out var dst))
                {
                    result.Add(dst.GetString()!);
                }
            }
        }

        return result;
    }
}
