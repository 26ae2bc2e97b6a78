using System.Diagnostics;
using System.Text.Json;

namespace XenVmc.NetnsTests;

/// <summary>
/// Drives bin/xenvmc-sim and runs tools inside the simulated guests. Every test brings a host
/// up and takes it down again (also when it fails), so namespaces, processes and shared-memory
/// files never outlive a test.
/// </summary>
internal sealed class SimHost : IDisposable
{
    public static readonly string Root = FindRoot();
    public static readonly string Bin = Path.Combine(Root, "bin");

    private SimHost()
    {
    }

    public static SimHost Up(params string[] args)
    {
        Sim("down");
        var host = new SimHost();
        try
        {
            Sim(["up", .. args]);
        }
        catch
        {
            host.Dispose();
            throw;
        }

        return host;
    }

    public void Dispose()
    {
        // XENVMC_TEST_LOGS=DIR keeps every daemon's log of each sim host a test brought up.
        string? keep = Environment.GetEnvironmentVariable("XENVMC_TEST_LOGS");
        if (!string.IsNullOrEmpty(keep) && Directory.Exists("/run/xenvmc-sim/logs"))
        {
            string target = Path.Combine(keep, DateTime.UtcNow.ToString("HHmmss-fff", System.Globalization.CultureInfo.InvariantCulture));
            Directory.CreateDirectory(target);
            foreach (string file in Directory.GetFiles("/run/xenvmc-sim/logs"))
            {
                File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
            }
        }

        var (exit, output, error) = Run(Path.Combine(Bin, "xenvmc-sim"), ["down"]);
        Assert.True(exit == 0, $"xenvmc-sim down failed: {output}{error}");
    }

    public static string Sim(params string[] args)
    {
        var (exit, output, error) = Run(Path.Combine(Bin, "xenvmc-sim"), args, TimeSpan.FromSeconds(120));
        if (exit != 0)
        {
            throw new InvalidOperationException($"xenvmc-sim {string.Join(' ', args)} exited {exit}: {output}{error}\n{Logs()}");
        }

        return output;
    }

    /// <summary>Runs a command inside a namespace; returns its exit code and output.</summary>
    public static (int Exit, string Output, string Error) Exec(string netns, params string[] command) =>
        Run("ip", ["netns", "exec", netns, .. command], TimeSpan.FromSeconds(120));

    public static string ExecOk(string netns, params string[] command)
    {
        var (exit, output, error) = Exec(netns, command);
        Assert.True(exit == 0, $"{string.Join(' ', command)} in {netns} exited {exit}: {output}{error}");
        return output;
    }

    /// <summary>Runs one of Debian's xenstore tools as Dom0 (the privileged socket); fails the test on error.</summary>
    public static string Xenstore(string tool, params string[] args)
    {
        var (exit, output, error) = Run("env", ["XENSTORED_PATH=/run/xenvmc-sim/xenstored/socket", tool, .. args]);
        Assert.True(exit == 0, $"{tool}: {error}");
        return output;
    }

    public static JsonElement Status(string netns) =>
        JsonDocument.Parse(ExecOk(netns, Path.Combine(Bin, "xenvmc"), "status", "--json")).RootElement;

    public static (ulong Rx, ulong Tx) Bytes(string netns, string dev)
    {
        var (exit, output, _) = Run("ip", ["-n", netns, "-s", "-j", "link", "show", "dev", dev]);
        if (exit != 0)
        {
            return (0, 0);
        }

        var stats = JsonDocument.Parse(output).RootElement[0].GetProperty("stats64");
        return (stats.GetProperty("rx").GetProperty("bytes").GetUInt64(), stats.GetProperty("tx").GetProperty("bytes").GetUInt64());
    }

    /// <summary>The device the kernel picks for <paramref name="address"/> (<c>ip route get</c>).</summary>
    public static string RouteDevice(string netns, string address)
    {
        var (exit, output, error) = Run("ip", ["-n", netns, "-j", "route", "get", address]);
        Assert.True(exit == 0, $"ip route get {address} in {netns}: {error}");
        return JsonDocument.Parse(output).RootElement[0].GetProperty("dev").GetString()!;
    }

    public static bool WaitUntil(Func<bool> condition, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            if (condition())
            {
                return true;
            }

            Thread.Sleep(25);
        }

        return condition();
    }

    public static string Logs()
    {
        string dir = "/run/xenvmc-sim/logs";
        if (!Directory.Exists(dir))
        {
            return "";
        }

        return string.Join("\n", Directory.GetFiles(dir).Order().Select(f =>
        {
            var lines = File.ReadAllLines(f);
            return $"--- {Path.GetFileName(f)} (last 30 lines)\n" + string.Join("\n", lines.TakeLast(30));
        }));
    }

    public static (int Exit, string Output, string Error) Run(string file, IReadOnlyList<string> args, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout ?? TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "XenVmc.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("cannot find the repository root (XenVmc.sln) above " + AppContext.BaseDirectory);
    }
}
