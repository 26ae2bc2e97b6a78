using XenVmc.Tests.Support;

namespace XenVmc.Tests.Packaging;

/// <summary>
/// Version N, then N+1 installed over it with dpkg into a scratch root (<c>dpkg --root</c>, the
/// maintainer scripts run chrooted there with dash): an edited conffile is kept, an unedited one
/// whose packaged content changed is replaced, and the maintainer scripts ask systemd for what
/// Debian expects: nothing on a first install, try-restart of the running units on an upgrade,
/// stop on removal. systemd there is a recorder standing in for systemctl and deb-systemd-invoke
/// (the real systemd is another test's: the units under systemd-nspawn).
/// </summary>
public sealed class DebianUpgradeTests(DebianPackageFixture package) : IClassFixture<DebianPackageFixture>
{
    [Fact]
    public void UpgradeInPlace_KeepsEditedConffiles_AndTryRestartsTheDaemons()
    {
        using var dir = new TempDirectory();
        string next = Repack(package.Deb, dir.Combine("next"), dir);
        string root = dir.Combine("root");
        foreach (string d in (string[])["var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers", "tmp", "bin", "lib", "lib64", "usr/bin", "run/systemd/system"])
        {
            Directory.CreateDirectory(Path.Combine(root, d));
        }

        // /bin and /lib are directories, not merged-/usr links: here no other package owns /lib, and
        // dpkg removes a link it takes for an empty directory of the package.
        File.WriteAllText(Path.Combine(root, "var/lib/dpkg/status"), "");
        var copy = Proc.Bash("set -o pipefail; dpkg -L libc6 dash | while read -r f; do if [ ! -d \"$f\" ] && { [ -L \"$f\" ] || [ -f \"$f\" ]; }; then echo \"$f\"; fi; done"
            + $" | tar -cf - --no-recursion -T - 2>/dev/null | tar -xf - --keep-directory-symlink -C {root}");
        Assert.True(copy.Exit == 0, copy.Err);
        if (!File.Exists(Path.Combine(root, "bin/sh")))
        {
            File.CreateSymbolicLink(Path.Combine(root, "bin/sh"), "dash");
        }

        // The scripts send systemd's chatter to /dev/null.
        Directory.CreateDirectory(Path.Combine(root, "dev"));
        Assert.Equal(0, Proc.Run("mknod", ["-m", "666", Path.Combine(root, "dev/null"), "c", "1", "3"]).Exit);
        string log = Path.Combine(root, "tmp/systemd.log");
        foreach (string tool in (string[])["systemctl", "deb-systemd-invoke", "deb-systemd-helper"])
        {
            string path = Path.Combine(root, "usr/bin", tool);
            File.WriteAllText(path, $"#!/bin/sh\necho \"{tool} $*\" >>/tmp/systemd.log\n");
            File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
        }

        string Dpkg(params string[] args)
        {
            var r = Proc.Run("dpkg", [$"--root={root}", "--force-depends", "--force-confold", .. args], timeoutMs: 5 * 60_000);
            Assert.True(r.Exit == 0, $"dpkg {string.Join(' ', args)}: {r.Out}{r.Err}");
            return File.Exists(log) ? File.ReadAllText(log) : $"(nothing logged; dpkg said: {r.Out}{r.Err})";
        }

        string install = Dpkg("-i", package.Deb);
        Assert.True(install == "systemctl --system daemon-reload\n", install);
        File.Delete(log);
        string guest = Path.Combine(root, "etc/xenvmc/guest.json");
        string edited = File.ReadAllText(guest).Replace("{", "{\n  \"Mtu\": 9000,", StringComparison.Ordinal);
        File.WriteAllText(guest, edited);

        string upgrade = Dpkg("-i", next);
        Assert.Equal("systemctl --system daemon-reload\ndeb-systemd-invoke try-restart xenvmc-guest.service xenvmc-dom0.service xenvmc-metrics.timer\n", upgrade);
        Assert.Equal(edited, File.ReadAllText(guest));
        Assert.Contains("\"upgraded\": true", File.ReadAllText(Path.Combine(root, "etc/xenvmc/dom0.json")), StringComparison.Ordinal);
        Assert.Contains("Version: 9.9.9", Proc.Run("dpkg", [$"--root={root}", "-s", "xenvmc"]).Out, StringComparison.Ordinal);

        File.Delete(log);
        string remove = Dpkg("--remove", "xenvmc");
        Assert.Equal("deb-systemd-invoke stop xenvmc-metrics.timer xenvmc-metrics.service xenvmc-guest.service xenvmc-dom0.service\nsystemctl --system daemon-reload\n", remove);
        Assert.True(File.Exists(guest), "remove keeps the conffiles");
        File.Delete(log);
        Assert.Equal("deb-systemd-helper purge xenvmc-guest.service xenvmc-dom0.service xenvmc-metrics.timer\n", Dpkg("--purge", "xenvmc"));
        Assert.False(File.Exists(guest), "purge removes them");
    }

    /// <summary>The same package as version 9.9.9 whose packaged dom0.json differs (a JSON comment-free extra key).</summary>
    private static string Repack(string deb, string work, TempDirectory dir)
    {
        Assert.Equal(0, Proc.Run("dpkg-deb", ["-R", deb, work]).Exit);
        string control = Path.Combine(work, "DEBIAN/control");
        File.WriteAllText(control, System.Text.RegularExpressions.Regex.Replace(File.ReadAllText(control), "(?m)^Version: .*$", "Version: 9.9.9"));
        string dom0 = Path.Combine(work, "etc/xenvmc/dom0.json");
        string text = File.ReadAllText(dom0);
        File.WriteAllText(dom0, text[..(text.LastIndexOf('}') + 1)] + "\n// \"upgraded\": true\n");
        string output = dir.Combine("xenvmc_9.9.9_amd64.deb");
        var build = Proc.Run("dpkg-deb", ["--root-owner-group", "-Zgzip", "--build", work, output]);
        Assert.True(build.Exit == 0, build.Err);
        return output;
    }
}
