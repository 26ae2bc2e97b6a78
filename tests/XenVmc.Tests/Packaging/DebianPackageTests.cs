using XenVmc.Tests.Support;

namespace XenVmc.Tests.Packaging;

/// <summary>
/// <c>packaging/build-deb.sh</c> builds the .deb; dpkg installs it into a clean root that holds
/// nothing but the C libraries it depends on and dash (Essential; the maintainer scripts need /bin/sh); the programs run there under chroot, with no .NET
/// anywhere in sight, and read the configuration the package installed.
/// </summary>
public sealed class DebianPackageTests(DebianPackageFixture package) : IClassFixture<DebianPackageFixture>
{
    [Fact]
    public void Lintian_ReportsNoErrorAndNoWarningThatIsNotOverriddenWithAReason()
    {
        Proc.Require("lintian", "lintian");
        var lintian = Proc.Run(Path.Combine(RepoRoot.Path, "packaging", "lintian.sh"), [package.Deb], timeoutMs: 10 * 60_000);
        Assert.True(lintian.Exit == 0, $"lintian: {lintian.Out}{lintian.Err}");
    }

    [Fact]
    public void ManPages_AreInstalledCompressed_AndRenderWithTheirOptions()
    {
        string root = package.InstalledRoot;
        foreach (var (page, options) in new (string, string[])[]
        {
            ("man1/xenvmc.1.gz", ["status", "peers", "stats", "routes", "--json", "--socket"]),
            ("man1/xenvmc-guest.1.gz", ["--config", "--mtu", "--ring-kib", "--poll-us", "--status-socket"]),
            ("man1/xenvmc-dom0.1.gz", ["--config", "--store", "--pairing"]),
            ("man5/xenvmc-guest.json.5.gz", ["Mtu", "RingKiB", "PollUs", "XENVMC_GUEST_MTU"]),
            ("man5/xenvmc-dom0.json.5.gz", ["Pairing:Mode", "Pairing:Groups", "Pairing:DenyPairs"]),
        })
        {
            string path = Path.Combine(root, "usr/share/man", page);
            Assert.True(File.Exists(path), $"the package did not install /usr/share/man/{page}");
            var man = Proc.Run("man", ["--warnings", "-l", path], new Dictionary<string, string?> { ["MANWIDTH"] = "200", ["PAGER"] = "cat" });
            Assert.True(man.Exit == 0 && man.Err.Length == 0, $"man -l {page}: exit {man.Exit}: {man.Err}");
            string text = man.Out.Replace("\u2010", "-", StringComparison.Ordinal);
            foreach (string option in options)
            {
                Assert.Contains(option, text, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void Deb_InstallsIntoACleanRoot_AndItsProgramsRun()
    {
        Proc.Require("chroot", "coreutils");
        using var dir = new TempDirectory();
        var build = package.Build;
        string deb = package.Deb;
        Assert.Matches(@"/xenvmc_\d+\.\d+\.\d+_amd64\.deb$", deb);
        var fields = Proc.Run("dpkg-deb", ["-f", deb, "Package", "Architecture", "Depends"]).Out;
        Assert.Contains("Package: xenvmc", fields, StringComparison.Ordinal);
        Assert.Contains("Architecture: amd64", fields, StringComparison.Ordinal);

        // The clean root: an empty dpkg database and the files of the three libraries the
        // package depends on and of dash (copied from this machine's own packages; not
        // registered, hence --force-depends), nothing else: no .NET.
        string root = dir.Combine("root");
        foreach (string d in (string[])["var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers", "proc", "tmp", "usr/bin", "usr/lib", "usr/lib64"])
        {
            Directory.CreateDirectory(Path.Combine(root, d));
        }

        // Debian 12's merged /usr: /lib and /lib64 are links into /usr.
        File.CreateSymbolicLink(Path.Combine(root, "lib"), "usr/lib");
        File.CreateSymbolicLink(Path.Combine(root, "lib64"), "usr/lib64");
        File.CreateSymbolicLink(Path.Combine(root, "bin"), "usr/bin");
        File.WriteAllText(Path.Combine(root, "var/lib/dpkg/status"), "");
        var copy = Proc.Bash($"set -o pipefail; dpkg -L libc6 libgcc-s1 libstdc++6 dash | while read -r f; do if [ -L \"$f\" ] || [ -f \"$f\" ]; then echo \"$f\"; fi; done"
            + $" | tar -cf - --no-recursion -T - 2>/dev/null | tar -xf - --keep-directory-symlink -C {root}");
        Assert.True(copy.Exit == 0, copy.Err);
        if (!File.Exists(Path.Combine(root, "usr/bin/sh")))
        {
            File.CreateSymbolicLink(Path.Combine(root, "usr/bin/sh"), "dash");
        }
        Assert.False(File.Exists(Path.Combine(root, "usr/bin/dotnet")) || Directory.Exists(Path.Combine(root, "usr/share/dotnet")));

        var install = Proc.Run("dpkg", [$"--root={root}", "--force-depends", "-i", deb]);
        Assert.True(install.Exit == 0, $"dpkg -i: {install.Out}{install.Err}");
        foreach (string file in (string[])["usr/bin/xenvmc", "usr/bin/xenvmc-guest", "usr/bin/xenvmc-dom0", "lib/systemd/system/xenvmc-guest.service",
            "lib/systemd/system/xenvmc-dom0.service", "usr/share/xenvmc/networkd/50-xenvmc-vmc0.netdev", "usr/share/xenvmc/networkd/50-xenvmc-vmc0.network",
            "usr/share/xenvmc/networkd/networkd.conf.d/xenvmc.conf", "etc/iproute2/rt_protos.d/xenvmc.conf", "etc/iproute2/rt_tables.d/xenvmc.conf", "usr/lib/sysctl.d/60-xenvmc.conf", "etc/xenvmc/guest.json", "etc/xenvmc/dom0.json",
            "usr/lib/xenvmc/libcoreclr.so", "lib/systemd/system/xenvmc-metrics.service", "lib/systemd/system/xenvmc-metrics.timer",
            "usr/share/man/man1/xenvmc.1.gz", "usr/share/bash-completion/completions/xenvmc"])
        {
            Assert.True(File.Exists(Path.Combine(root, file)), $"the package did not install /{file}");
        }

        Assert.Contains("/etc/xenvmc/guest.json", Proc.Run("dpkg", [$"--root={root}", "--status", "xenvmc"]).Out + File.ReadAllText(Path.Combine(root, "var/lib/dpkg/info/xenvmc.conffiles")), StringComparison.Ordinal);

        // A wrong value in the installed /etc/xenvmc/dom0.json is refused, naming the option.
        File.WriteAllText(Path.Combine(root, "etc/xenvmc/dom0.json"), """{ "Pairing": { "Mode": "everyone" } }""");
        var run = Proc.Run("unshare", ["--mount", "sh", "-c", $"""
            mount -t proc proc {root}/proc
            chroot {root} /usr/bin/xenvmc --version
            chroot {root} /usr/bin/xenvmc-guest --version
            chroot {root} /usr/bin/xenvmc-dom0 --version
            chroot {root} /usr/bin/xenvmc-dom0; echo "dom0 exit $?"
            """]);
        Assert.True(run.Exit == 0, run.Err);
        string version = build.Out.Trim().Split('_')[1];
        Assert.Contains($"xenvmc {version}\nxenvmc-guest {version}\nxenvmc-dom0 {version}\n", run.Out, StringComparison.Ordinal);
        Assert.Contains("dom0 exit 2", run.Out, StringComparison.Ordinal);
        Assert.Contains("option Pairing:Mode: 'everyone'", run.Err, StringComparison.Ordinal);
    }
}
