using XenVmc.Tests.Support;

namespace XenVmc.Tests.Packaging;

/// <summary>
/// systemd/*.service pass <c>systemd-analyze verify</c> with nothing to say, and carry what the
/// operator relies on: Type=notify, the watchdog, restart on failure, and the sandbox.
/// </summary>
public sealed class SystemdUnitTests
{
    public static TheoryData<string> Units => new() { "xenvmc-guest.service", "xenvmc-dom0.service" };

    /// <summary>The daemons' units and the oneshot that writes metrics for node-exporter.</summary>
    public static TheoryData<string> AllServices => new() { "xenvmc-guest.service", "xenvmc-dom0.service", "xenvmc-metrics.service" };

    [Theory]
    [MemberData(nameof(AllServices))]
    public void Unit_VerifiesClean(string unit)
    {
        string analyze = Proc.Require("systemd-analyze", "systemd");
        string binary = Path.Combine(RepoRoot.Path, "bin", unit == "xenvmc-metrics.service" ? "xenvmc" : unit.Replace(".service", "", StringComparison.Ordinal));
        Assert.True(File.Exists(binary), $"{binary} is missing: run ./build.sh first (./test.sh does)");

        // verify checks that ExecStart= is executable; the unit names /usr/bin, where the package
        // puts the program. Everything else is verified exactly as shipped.
        using var dir = new TempDirectory();
        string text = File.ReadAllText(Path.Combine(RepoRoot.Path, "systemd", unit));
        Assert.Contains("ExecStart=/usr/bin/", text, StringComparison.Ordinal);
        File.WriteAllText(dir.Combine(unit), text.Replace("ExecStart=/usr/bin/", $"ExecStart={RepoRoot.Path}/bin/", StringComparison.Ordinal));

        var (exit, stdout, stderr) = Proc.Run(analyze, ["verify", dir.Combine(unit)]);
        Assert.True(exit == 0 && stdout.Length == 0 && stderr.Length == 0, $"systemd-analyze verify {unit}: exit {exit}\n{stdout}{stderr}");
    }

    [Fact]
    public void Verify_CatchesAMistake()
    {
        string analyze = Proc.Require("systemd-analyze", "systemd");
        using var dir = new TempDirectory();
        File.WriteAllText(dir.Combine("bad.service"), "[Service]\nType=notify\nExecStart=/bin/true\nWatchdogSec=banana\nSandboxing=yes\n");
        var (exit, stdout, stderr) = Proc.Run(analyze, ["verify", dir.Combine("bad.service")]);
        Assert.False(exit == 0 && stdout.Length == 0 && stderr.Length == 0);
    }

    [Theory]
    [MemberData(nameof(Units))]
    public void Unit_IsANotifyServiceWithWatchdogAndSandbox(string unit)
    {
        var lines = File.ReadAllLines(Path.Combine(RepoRoot.Path, "systemd", unit)).Select(l => l.Trim()).ToHashSet();
        string[] required =
        [
            "Type=notify", "WatchdogSec=10s", "Restart=on-failure", "DevicePolicy=closed", "DeviceAllow=/dev/xen/xenbus rw",
            "CapabilityBoundingSet=CAP_NET_ADMIN", "ProtectSystem=strict", "RestrictAddressFamilies=AF_UNIX AF_NETLINK AF_INET AF_INET6",
            "NoNewPrivileges=yes",
        ];
        if (unit == "xenvmc-guest.service")
        {
            required = [.. required, "DeviceAllow=/dev/net/tun rw", "DeviceAllow=/dev/xen/evtchn rw", "DeviceAllow=/dev/xen/gntdev rw", "DeviceAllow=/dev/xen/gntalloc rw"];
        }

        foreach (string line in required)
        {
            Assert.True(lines.Contains(line), $"{unit} lacks '{line}'");
        }
    }
}
