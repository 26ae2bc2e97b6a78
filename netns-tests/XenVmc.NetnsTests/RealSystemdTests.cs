using System.Text.Json;

namespace XenVmc.NetnsTests;

/// <summary>
/// The package under a real systemd: a Debian 12 container with systemd as PID 1 boots inside
/// simulated guest 1's network namespace, installs our .deb, lets systemd-networkd create vmc0
/// from our .netdev and runs xenvmc-guest.service against the simulated host's sockets (bound into
/// the container). Everything is checked with systemd's own tools: readiness, STATUS, the watchdog,
/// networkd reloads and restarts, stop, and the journal's priorities.
/// </summary>
public sealed class RealSystemdTests
{
    private const string G1 = "xvmc-g1";
    private const string Peer = "198.18.0.2";
    private const string Unit = "xenvmc-guest";

    [Fact]
    [Trait("Category", "RealSystemd")]
    public void GuestPackage_UnderSystemdAndNetworkd_IsReadyWhenServing_RestartedByTheWatchdog_AndKeepsItsRoutes()
    {
        string tree = NspawnContainer.Tree();
        string work = Path.Combine("/tmp", "xvn-systemd-" + Guid.NewGuid().ToString("N")[..10]);
        string debDir = Path.Combine(work, "deb");
        string late = Path.Combine(work, "late");
        Directory.CreateDirectory(late);
        try
        {
            // XENVMC_DEB=PATH: a package built beforehand (packaging/build-deb.sh takes minutes).
            string? deb = Environment.GetEnvironmentVariable("XENVMC_DEB");
            if (string.IsNullOrEmpty(deb))
            {
                var build = SimHost.Run(Path.Combine(SimHost.Root, "packaging", "build-deb.sh"), [debDir], TimeSpan.FromMinutes(20));
                Assert.True(build.Exit == 0, $"packaging/build-deb.sh: {build.Output}{build.Error}");
                deb = build.Output.Trim().Split('\n')[^1];
            }
            else
            {
                Directory.CreateDirectory(debDir);
                File.Copy(deb, Path.Combine(debDir, Path.GetFileName(deb)));
            }

            using var host = SimHost.Up("--guests", "2");
            SimHost.Sim("daemon", "stop", "1");
            Assert.True(SimHost.WaitUntil(() => SimHost.Exec(G1, "ip", "link", "show", "vmc0").Exit != 0, TimeSpan.FromSeconds(10)), "the sim's own daemon and its vmc0 are gone");

            using var c = NspawnContainer.Boot(tree, G1, "/run/xenvmc-sim", "/dev/net/tun", $"{debDir}:/run/xenvmc-deb", $"{late}:/run/xenvmc-late");
            c.RunOk("dpkg", "-i", "/run/xenvmc-deb/" + Path.GetFileName(deb));

            // The simulated host in place of Xen: its sockets, and a unit condition that a container
            // (not a Xen guest) passes. The store is at first a path that leads nowhere, so the
            // daemon cannot serve yet.
            File.WriteAllText(Path.Combine(c.RootDirectory, "etc/xenvmc/guest.json"), """
                {
                  "Platform": "sim",
                  "Xenbus": "/run/xenvmc-late/xenbus",
                  "Hypervisor": "/run/xenvmc-sim/guests/xvmc-g1/hypervisor"
                }
                """);
            Directory.CreateDirectory(Path.Combine(c.RootDirectory, $"etc/systemd/system/{Unit}.service.d"));
            File.WriteAllText(Path.Combine(c.RootDirectory, $"etc/systemd/system/{Unit}.service.d/sim.conf"), "[Unit]\nConditionVirtualization=\n");

            // README, "Each guest": networkd owns vmc0. Nothing else makes a vmc0 here: the sim's daemon is stopped.
            Assert.NotEqual(0, c.Run("ip", "link", "show", "vmc0").Exit);
            c.RunOk("sh", "-c", "cp /usr/share/xenvmc/networkd/50-xenvmc-vmc0.netdev /usr/share/xenvmc/networkd/50-xenvmc-vmc0.network /etc/systemd/network/"
                + " && mkdir -p /etc/systemd/networkd.conf.d && cp /usr/share/xenvmc/networkd/networkd.conf.d/xenvmc.conf /etc/systemd/networkd.conf.d/");
            c.RunOk("systemctl", "enable", "systemd-networkd");
            c.RunOk("systemctl", "restart", "systemd-networkd");
            string networkd = "";
            Assert.True(SimHost.WaitUntil(() => (networkd = c.Run("networkctl", "status", "vmc0").Output).Contains("50-xenvmc-vmc0.network", StringComparison.Ordinal), TimeSpan.FromSeconds(20)),
                $"networkd manages vmc0 with our .network file: {networkd}");
            Assert.Contains("Kind: tun", networkd);
            string link = c.RunOk("ip", "-d", "link", "show", "vmc0");
            Assert.Contains("multi_queue", link);
            Assert.Contains("vnet_hdr", link);
            int ifindex = IfIndex();

            c.RunOk("systemctl", "daemon-reload");
            c.RunOk("systemctl", "enable", Unit);
            c.RunOk("systemctl", "start", "--no-block", Unit);

            // Not serving: "activating", however long we wait, and the journal says why at warning.
            long until = Environment.TickCount64 + 4000;
            Assert.True(SimHost.WaitUntil(() => State(c) == "activating/start", TimeSpan.FromSeconds(10)), $"the unit starts: {State(c)}");
            while (Environment.TickCount64 < until)
            {
                Assert.Equal("activating/start", State(c));
                Thread.Sleep(250);
            }

            Assert.True(SimHost.WaitUntil(() => c.Run("journalctl", "-u", Unit, "-p", "warning", "-o", "cat").Output.Contains("XenStore not reachable", StringComparison.Ordinal), TimeSpan.FromSeconds(10)),
                "the daemon says at warning priority that the store is not reachable");

            File.CreateSymbolicLink(Path.Combine(late, "xenbus"), "/run/xenvmc-sim/guests/xvmc-g1/xenbus");
            Assert.True(SimHost.WaitUntil(() => State(c) == "active/running", TimeSpan.FromSeconds(60)), $"READY=1 once the store answers: {State(c)}\n{Journal(c)}");
            Assert.True(SimHost.WaitUntil(() => HasPeerRoute(), TimeSpan.FromSeconds(30)), $"the peer route\n{Journal(c)}");
            Assert.Equal(ifindex, IfIndex());
            Assert.True(SimHost.WaitUntil(() => c.RunOk("systemctl", "show", "-p", "StatusText", "--value", Unit).Contains("1 peers, 1 channels connected", StringComparison.Ordinal), TimeSpan.FromSeconds(20)),
                $"STATUS with the connected channel: {c.Run("systemctl", "show", "-p", "StatusText", Unit).Output}");
            string status = c.Run("systemctl", "status", "--no-pager", Unit).Output;
            Assert.Contains("active (running)", status);
            Assert.Contains("Status: \"domain 1: 1 peers, 1 channels connected", status);
            PingThroughVmc0();

            // networkd reloads and restarts leave the daemon's routes alone (ManageForeignRoutes=no).
            c.RunOk("networkctl", "reload");
            Thread.Sleep(3000);
            Assert.True(HasPeerRoute(), $"the peer route after networkctl reload: {Routes()}");
            c.RunOk("systemctl", "restart", "systemd-networkd");
            Assert.True(SimHost.WaitUntil(() => c.Run("networkctl", "status", "vmc0").Output.Contains("50-xenvmc-vmc0.network", StringComparison.Ordinal), TimeSpan.FromSeconds(20)), "networkd back");
            Thread.Sleep(3000);
            Assert.True(HasPeerRoute(), $"the peer route after a restart of systemd-networkd: {Routes()}");
            Assert.Equal(ifindex, IfIndex());
            PingThroughVmc0();

            // A stopped daemon feeds no watchdog: systemd kills it (WatchdogSec=10s) and starts it again.
            string pid = c.RunOk("systemctl", "show", "-p", "MainPID", "--value", Unit).Trim();
            c.RunOk("systemctl", "kill", "--kill-who=main", "--signal=SIGSTOP", Unit);
            Assert.True(SimHost.WaitUntil(() => Restarts(c) >= 1 && State(c) == "active/running", TimeSpan.FromSeconds(45)),
                $"restarted by the watchdog: {State(c)}, {Restarts(c)} restarts\n{Journal(c)}");
            Assert.NotEqual(pid, c.RunOk("systemctl", "show", "-p", "MainPID", "--value", Unit).Trim());
            Assert.Contains("Watchdog timeout", Journal(c));
            Assert.True(SimHost.WaitUntil(() => HasPeerRoute(), TimeSpan.FromSeconds(30)), $"the peer route after the restart\n{Journal(c)}");
            PingThroughVmc0();

            // The journal has the daemon's own priorities: warnings at 4, the rest at 6, no "<N>" left in the text.
            var entries = c.RunOk("journalctl", "-u", Unit, "-o", "json", "_COMM=xenvmc-guest").Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => JsonDocument.Parse(line).RootElement)
                .Select(e => (Priority: e.GetProperty("PRIORITY").GetString(), Message: e.TryGetProperty("MESSAGE", out var m) ? m.ToString() : ""))
                .ToList();
            Assert.Contains(entries, e => e.Priority == "4" && e.Message.Contains("XenStore not reachable", StringComparison.Ordinal));
            Assert.Contains(entries, e => e.Priority == "6" && e.Message.Contains("channel connected", StringComparison.Ordinal));
            Assert.DoesNotContain(entries, e => e.Message.StartsWith('<'));
            string warnings = c.RunOk("journalctl", "-u", Unit, "-p", "warning", "-o", "cat", "_COMM=xenvmc-guest");
            Assert.DoesNotContain("channel connected", warnings);

            // Stop: the routes go, networkd's vmc0 stays.
            c.RunOk("systemctl", "stop", Unit);
            Assert.Equal("inactive/dead", State(c));
            Assert.Equal("", Routes().Trim());
            Assert.Equal(ifindex, IfIndex());
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static string State(NspawnContainer c)
    {
        var lines = c.RunOk("systemctl", "show", "-p", "ActiveState", "-p", "SubState", Unit).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .ToDictionary(l => l[..l.IndexOf('=', StringComparison.Ordinal)], l => l[(l.IndexOf('=', StringComparison.Ordinal) + 1)..]);
        return $"{lines["ActiveState"]}/{lines["SubState"]}";
    }

    private static int Restarts(NspawnContainer c) =>
        int.Parse(c.RunOk("systemctl", "show", "-p", "NRestarts", "--value", Unit).Trim(), System.Globalization.CultureInfo.InvariantCulture);

    private static string Journal(NspawnContainer c) => c.Run("journalctl", "-u", Unit, "--no-pager", "-n", "40").Output;

    /// <summary>The daemon's routes (protocol 86), in whichever table it keeps them.</summary>
    private static string Routes() => SimHost.ExecOk(G1, "ip", "route", "show", "table", "all", "proto", "86");

    private static bool HasPeerRoute() => Routes().Contains(Peer + " dev vmc0", StringComparison.Ordinal);

    private static int IfIndex() =>
        JsonDocument.Parse(SimHost.ExecOk(G1, "ip", "-j", "link", "show", "vmc0")).RootElement[0].GetProperty("ifindex").GetInt32();

    private static void PingThroughVmc0()
    {
        ulong before = SimHost.Bytes(G1, "vmc0").Tx;
        SimHost.ExecOk(G1, "ping", "-c", "3", "-i", "0.05", "-W", "2", Peer);
        Assert.True(SimHost.Bytes(G1, "vmc0").Tx >= before + (3 * 84), "the pings left through vmc0");
    }
}
