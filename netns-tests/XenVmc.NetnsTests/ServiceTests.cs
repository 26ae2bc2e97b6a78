using System.Diagnostics;
using System.Text.Json;
using XenVmc.Tests.Support;

namespace XenVmc.NetnsTests;

/// <summary>
/// The guest daemon as systemd runs it: on a TUN that systemd-networkd (here: <c>ip tuntap</c>)
/// created beforehand, persistent, vnet-header and multi-queue, reporting to a real notify socket.
/// READY=1 must come only once the daemon serves; the watchdog is fed; STOPPING=1 on SIGTERM; the
/// persistent TUN outlives the daemon.
/// </summary>
public sealed class ServiceTests
{
    private const string G1 = "xvmc-g1";

    [Fact]
    public void GuestDaemon_OnAPersistentMultiQueueTun_IsReadyOnlyWhenServing_FeedsTheWatchdog_AndSaysStopping()
    {
        using var host = SimHost.Up("--guests", "2");
        SimHost.Sim("daemon", "stop", "1");
        Assert.True(SimHost.WaitUntil(() => SimHost.Exec(G1, "ip", "link", "show", "vmc0").Exit != 0, TimeSpan.FromSeconds(10)), "the daemon's own vmc0 went with it");

        // What systemd-networkd makes of networkd/50-xenvmc-vmc0.netdev.
        SimHost.ExecOk(G1, "ip", "tuntap", "add", "dev", "vmc0", "mode", "tun", "vnet_hdr", "multi_queue");
        int ifindex = IfIndex();
        Assert.Contains("multi_queue", SimHost.ExecOk(G1, "ip", "-d", "link", "show", "vmc0"));

        // The store is not reachable yet: the daemon's --xenbus is a link that points nowhere.
        string dir = Path.Combine("/tmp", "xvn-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(dir);
        Process? daemon = null;
        try
        {
            using var listener = new NotifyListener(Path.Combine(dir, "notify"));
            string xenbus = Path.Combine(dir, "xenbus");
            var info = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (string arg in (string[])["netns", "exec", G1, Path.Combine(SimHost.Bin, "xenvmc-guest"), "--platform", "sim", "--xenbus", xenbus,
                "--hypervisor", "/run/xenvmc-sim/guests/xvmc-g1/hypervisor"])
            {
                info.ArgumentList.Add(arg);
            }

            info.Environment["NOTIFY_SOCKET"] = listener.Address;
            info.Environment["WATCHDOG_USEC"] = "2000000";
            daemon = Process.Start(info)!;
            daemon.OutputDataReceived += (_, _) => { };
            daemon.ErrorDataReceived += (_, _) => { };
            daemon.BeginOutputReadLine();
            daemon.BeginErrorReadLine();

            // Not serving: nothing that says READY, however long we wait.
            var early = new List<string>();
            long until = Environment.TickCount64 + 2500;
            while (Environment.TickCount64 < until && listener.Receive(TimeSpan.FromMilliseconds(until - Environment.TickCount64)) is { } m)
            {
                early.Add(m);
            }

            Assert.DoesNotContain(early, m => m.Contains("READY=1", StringComparison.Ordinal));
            Assert.False(daemon.HasExited, "the daemon keeps knocking on a store that is not there");

            File.CreateSymbolicLink(xenbus, "/run/xenvmc-sim/guests/xvmc-g1/xenbus");
            var untilReady = listener.ReceiveUntil("READY=1", TimeSpan.FromSeconds(20));
            string ready = untilReady[^1];

            // At READY it serves: registered in XenStore, on the TUN that was there (same ifindex).
            string state = SimHost.Run("env", ["XENSTORED_PATH=/run/xenvmc-sim/xenstored/socket", "xenstore-read", "/local/domain/1/data/xenvmc/state"]).Output.Trim();
            Assert.Equal("ready", state);
            Assert.Equal(ifindex, IfIndex());
            Assert.Contains("STATUS=domain 1", ready);

            // The watchdog is fed (every ~1 s for WATCHDOG_USEC=2 s), and STATUS tells peers and channels.
            listener.ReceiveUntil("WATCHDOG=1", TimeSpan.FromSeconds(5));
            listener.ReceiveUntil("WATCHDOG=1", TimeSpan.FromSeconds(5));
            Assert.True(SimHost.WaitUntil(() => SimHost.RouteDevice(G1, "198.18.0.2") == "vmc0", TimeSpan.FromSeconds(15)), "the bypass route through the attached vmc0");
            SimHost.ExecOk(G1, "ping", "-c", "3", "-i", "0.05", "-W", "2", "198.18.0.2");
            var peer = SimHost.Status(G1).GetProperty("peers").EnumerateArray().Single();
            Assert.True(peer.GetProperty("rx_packets").GetInt64() >= 3, "the replies came through shared memory");
            var statusLines = listener.ReceiveUntil("WATCHDOG=1", TimeSpan.FromSeconds(5));
            Assert.True(SimHost.WaitUntil(() => Drain(listener, statusLines).Any(m => m.Contains("1 peers, 1 channels connected", StringComparison.Ordinal)), TimeSpan.FromSeconds(8)),
                $"a STATUS line with peers and channels; got [{string.Join(" | ", statusLines)}]");

            SimHost.Run("kill", ["-TERM", daemon.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            listener.ReceiveUntil("STOPPING=1", TimeSpan.FromSeconds(10));
            Assert.True(daemon.WaitForExit(15_000), "the daemon stops on SIGTERM");
            Assert.Equal(0, daemon.ExitCode);

            // Persistent: networkd's vmc0 stays, without our routes.
            Assert.Equal(ifindex, IfIndex());
            Assert.Equal("", SimHost.ExecOk(G1, "ip", "route", "show", "table", "all", "proto", "86").Trim());
            Assert.DoesNotContain("proto 86", SimHost.ExecOk(G1, "ip", "rule", "show"), StringComparison.Ordinal);
        }
        finally
        {
            if (daemon is { HasExited: false })
            {
                daemon.Kill();
                daemon.WaitForExit(5000);
            }

            daemon?.Dispose();
            SimHost.Exec(G1, "ip", "tuntap", "del", "dev", "vmc0", "mode", "tun", "multi_queue");
            Directory.Delete(dir, recursive: true);
        }
    }

    private static int IfIndex() =>
        JsonDocument.Parse(SimHost.ExecOk(G1, "ip", "-j", "link", "show", "vmc0")).RootElement[0].GetProperty("ifindex").GetInt32();

    private static List<string> Drain(NotifyListener listener, List<string> into)
    {
        while (listener.Receive(TimeSpan.FromMilliseconds(500)) is { } m)
        {
            into.Add(m);
        }

        return into;
    }
}
