using System.Diagnostics;
using System.Globalization;

namespace XenVmc.NetnsTests;

/// <summary>
/// A Debian 12 container booted by systemd-nspawn with systemd as PID 1, inside an existing
/// network namespace (a simulated guest's). Its root is an overlay over the cached debootstrap tree
/// (netns-tests/nspawn-tree.sh), so the cache stays clean; it is not registered with machined, so
/// commands enter it with nsenter and it is stopped by signalling its nspawn process. Dispose stops
/// it (SIGTERM: an orderly shutdown; SIGKILL after 20 s) and removes the overlay and its mounts.
/// </summary>
internal sealed class NspawnContainer : IDisposable
{
    private readonly string _dir;
    private readonly string _merged;
    private readonly Process _nspawn;
    private readonly string _log;

    private NspawnContainer(string dir, string merged, Process nspawn, string log)
    {
        _dir = dir;
        _merged = merged;
        _nspawn = nspawn;
        _log = log;
    }

    /// <summary>The container's PID 1, as the host sees it.</summary>
    public int Leader { get; private set; }

    /// <summary>The root directory of the running container, seen from the host.</summary>
    public string RootDirectory => _merged;

    /// <summary>The cached tree; builds it the first time (debootstrap, a few minutes).</summary>
    public static string Tree()
    {
        var (exit, output, error) = SimHost.Run(Path.Combine(SimHost.Root, "netns-tests", "nspawn-tree.sh"), [], TimeSpan.FromMinutes(20));
        Assert.True(exit == 0, $"netns-tests/nspawn-tree.sh failed: {output}{error}");
        return output.Trim().Split('\n')[^1];
    }

    /// <summary>Boots the container in <paramref name="netns"/> with host paths bound in at the same place; waits until systemd has booted.</summary>
    public static NspawnContainer Boot(string tree, string netns, params string[] binds)
    {
        string dir = Path.Combine("/tmp", "xvn-nspawn-" + Guid.NewGuid().ToString("N")[..10]);
        string merged = Path.Combine(dir, "merged");
        foreach (string d in (string[])["upper", "work", "merged"])
        {
            Directory.CreateDirectory(Path.Combine(dir, d));
        }

        var mount = SimHost.Run("mount", ["-t", "overlay", "overlay", "-o", $"lowerdir={tree},upperdir={dir}/upper,workdir={dir}/work", merged]);
        if (mount.Exit != 0)
        {
            Directory.Delete(dir, recursive: true);
            Assert.Fail($"overlay mount failed: {mount.Error}");
        }

        string log = Path.Combine(dir, "nspawn.log");
        var info = new ProcessStartInfo("sh") { UseShellExecute = false };
        var args = new List<string>
        {
            "systemd-nspawn", "--boot", "--register=no", "--keep-unit", "--quiet", "--console=pipe",
            $"--network-namespace-path=/run/netns/{netns}", "--capability=CAP_NET_ADMIN", "-D", merged,
        };
        args.AddRange(binds.Select(b => "--bind=" + b));

        // stdin from /dev/null, output to a file: nothing to pump, and the log outlives the container.
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec \"$@\" </dev/null >" + log + " 2>&1");
        info.ArgumentList.Add("nspawn");
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var container = new NspawnContainer(dir, merged, Process.Start(info)!, log);
        try
        {
            Assert.True(SimHost.WaitUntil(() => container.FindLeader(), TimeSpan.FromSeconds(30)), $"no container PID 1 under nspawn: {container.Log()}");

            // "degraded" is a unit that failed in the container's own boot: booted all the same.
            string state = "";
            bool booted = SimHost.WaitUntil(() => (state = container.Run("systemctl", "is-system-running").Output.Trim()) is "running" or "degraded", TimeSpan.FromSeconds(120));
            Assert.True(booted, $"systemd did not finish booting (is-system-running: {state}):\n{container.Run("systemctl", "--failed", "--no-pager").Output}\n{container.Run("journalctl", "-b", "-p", "warning", "--no-pager").Output}\n{container.Log()}");
        }
        catch
        {
            container.Dispose();
            throw;
        }

        return container;
    }

    /// <summary>Runs a command inside the container (all its namespaces and its root).</summary>
    public (int Exit, string Output, string Error) Run(params string[] command) =>
        SimHost.Run("nsenter", ["--target", Leader.ToString(CultureInfo.InvariantCulture), "--all", "--root", "--wd", "--", "env",
            "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "SYSTEMD_PAGER=", "SYSTEMD_COLORS=0", .. command], TimeSpan.FromSeconds(120));

    public string RunOk(params string[] command)
    {
        var (exit, output, error) = Run(command);
        Assert.True(exit == 0, $"{string.Join(' ', command)} in the container exited {exit}: {output}{error}");
        return output;
    }

    public string Log() => File.Exists(_log) ? File.ReadAllText(_log) : "";

    public void Dispose()
    {
        if (!_nspawn.HasExited)
        {
            // nspawn turns SIGTERM into an orderly shutdown of the container's systemd.
            SimHost.Run("kill", ["-TERM", _nspawn.Id.ToString(CultureInfo.InvariantCulture)]);
            if (!_nspawn.WaitForExit(20_000))
            {
                _nspawn.Kill(entireProcessTree: true);
                _nspawn.WaitForExit(10_000);
            }
        }

        _nspawn.Dispose();
        var umount = SimHost.Run("umount", [_merged]);
        if (umount.Exit != 0)
        {
            SimHost.Run("umount", ["--lazy", _merged]);
        }

        SimHost.Run("rm", ["-rf", "--one-file-system", _dir]);
    }

    private bool FindLeader()
    {
        if (_nspawn.HasExited)
        {
            Assert.Fail($"systemd-nspawn exited {_nspawn.ExitCode}: {Log()}");
        }

        // nspawn's child whose command is systemd: the container's PID 1.
        foreach (string task in Directory.GetDirectories($"/proc/{_nspawn.Id}/task"))
        {
            string children;
            try
            {
                children = File.ReadAllText(Path.Combine(task, "children"));
            }
            catch (IOException)
            {
                continue;
            }

            foreach (string child in children.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                string comm;
                try
                {
                    comm = File.ReadAllText($"/proc/{child}/comm").Trim();
                }
                catch (IOException)
                {
                    continue;
                }

                if (comm == "systemd")
                {
                    Leader = int.Parse(child, CultureInfo.InvariantCulture);
                    return true;
                }
            }
        }

        return false;
    }
}
