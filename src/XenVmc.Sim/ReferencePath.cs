using System.Diagnostics;
using System.Globalization;

namespace XenVmc.Sim;

/// <summary>
/// The reference path of the demo and of <c>netns-tests/bench.sh</c>: <c>netns-tests/tun-copier.c</c>
/// compiled with cc, one TUN device <c>ref0</c> in each of two guests and one C process copying
/// packets between them, on 198.19.1.0/24. What any TUN-based user-space path costs at the least.
/// </summary>
/// <remarks>
/// Design: owns one child process and a scratch directory; <see cref="Dispose"/> kills that
/// process by its own pid (the TUN devices go with it) and removes the directory. Used from one
/// thread.
/// </remarks>
internal sealed class ReferencePath : IDisposable
{
    public const string Device = "ref0";
    private readonly Process _copier;
    private readonly string _directory;

    private ReferencePath(Process copier, string directory)
    {
        _copier = copier;
        _directory = directory;
    }

    /// <summary>The guest-side address of guest <paramref name="index"/> (1 or 2) on the reference path.</summary>
    public static string Address(int index) => string.Create(CultureInfo.InvariantCulture, $"198.19.1.{index}");

    /// <summary>Where the copier's source is in a checkout (bin/ beside netns-tests/), or null.</summary>
    public static string? FindSource()
    {
        string candidate = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "netns-tests", "tun-copier.c"));
        return File.Exists(candidate) ? candidate : null;
    }

    /// <summary>
    /// Compiles the copier and connects <paramref name="ns1"/> and <paramref name="ns2"/> through
    /// it; returns null with the reason when it cannot (no cc, no source, the compiler failed).
    /// </summary>
    public static ReferencePath? TryStart(string ns1, string ns2, out string reason)
    {
        string? source = FindSource();
        if (!Prerequisites.Has("cc"))
        {
            reason = "no C compiler (cc) to build netns-tests/tun-copier.c: apt-get install -y gcc libc6-dev";
            return null;
        }

        if (source is null)
        {
            reason = "netns-tests/tun-copier.c is not beside bin/ (the demo runs from a checkout's bin/)";
            return null;
        }

        string directory = Directory.CreateTempSubdirectory("xenvmc-demo-").FullName;
        string program = Path.Combine(directory, "tun-copier");
        var (exit, _, error) = Shell.Run("cc", ["-O2", "-Wall", "-pthread", "-o", program, source], check: false);
        if (exit != 0)
        {
            Directory.Delete(directory, recursive: true);
            reason = $"cc could not build {source}: {error.Trim().Split('\n')[0]}";
            return null;
        }

        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in new[] { ns1, Device, ns2, Device })
        {
            info.ArgumentList.Add(arg);
        }

        var copier = Process.Start(info) ?? throw new IOException($"could not start {program}");
        var path = new ReferencePath(copier, directory);
        try
        {
            var ready = copier.StandardOutput.ReadLineAsync();
            if (!ready.Wait(TimeSpan.FromSeconds(5)) || ready.Result?.Trim() != "ready")
            {
                throw new IOException($"tun-copier did not start: {(copier.HasExited ? copier.StandardError.ReadToEnd().Trim() : "no answer in 5 s")}");
            }

            foreach (var (ns, self, peer) in new[] { (ns1, 1, 2), (ns2, 2, 1) })
            {
                Shell.Run("ip", "-n", ns, "link", "set", Device, "mtu", "65520", "up");
                Shell.Run("ip", "-n", ns, "addr", "add", Address(self) + "/32", "dev", Device);
                Shell.Run("ip", "-n", ns, "route", "add", Address(peer) + "/32", "dev", Device, "src", Address(self));
                Shell.Run("ip", "netns", "exec", ns, "sysctl", "-qw", $"net.ipv4.conf.{Device}.rp_filter=0");
            }
        }
        catch
        {
            path.Dispose();
            throw;
        }

        reason = "";
        return path;
    }

    public void Dispose()
    {
        try
        {
            if (!_copier.HasExited)
            {
                _copier.Kill();
                _copier.WaitForExit(2000);
            }
        }
        catch (InvalidOperationException)
        {
            // Exited between the check and the kill.
        }

        _copier.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
