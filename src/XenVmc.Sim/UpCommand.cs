using System.Globalization;
using System.Text.Json;
using XenVmc.Platform.Hosting;
using XenVmc.Platform.Simulated;
using XenVmc.XenStore;

namespace XenVmc.Sim;

/// <summary>
/// <c>xenvmc-sim up</c>: builds a simulated Xen host. Namespace xvmc-dom0 holds the bridges;
/// guest i is namespace xvmc-g&lt;i&gt; with eth0 (a veth whose other end, vif&lt;i&gt;.0, is on its
/// bridge), 198.18.0.i/24 and fd00:198:18::i/64, and domid i. Then the toolstack's XenStore
/// writes, the introductions, and the XenVMC daemons.
/// </summary>
internal static class UpCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var cl = CommandLine.Parse(args, ["--guests", "--bridges", "--run-dir", "--wait", "--grant-limit"], ["--no-bypass"]);
        var paths = new SimPaths(cl.Get("--run-dir", SimPaths.DefaultRunDirectory));
        int count = cl.GetInt("--guests", 2, 1, 200);
        int grantLimit = cl.GetInt("--grant-limit", SimHypervisorServer.DefaultGrantLimit, 1, 1 << 20);
        string[] bridges = ParseBridges(cl.Get("--bridges"), count);
        bool bypass = !cl.Has("--no-bypass");
        int waitSeconds = cl.GetInt("--wait", 15, 0, 600);
        if (HostState.Load(paths) is not null || Directory.Exists(Path.Combine("/run/netns", SimPaths.Dom0Namespace)))
        {
            throw new UsageException("a simulated host is already up; run `xenvmc-sim down` first");
        }

        var guests = Enumerable.Range(1, count).Select(i => GuestState.Create(i, bridges[i - 1])).ToList();
        var state = new HostState(bypass, guests, count + 1);
        Directory.CreateDirectory(paths.Logs);
        Directory.CreateDirectory(paths.Pids);
        state.Save(paths);
        string self = Environment.ProcessPath ?? throw new IOException("cannot tell where xenvmc-sim lives");
        string bin = Path.GetDirectoryName(self)!;

        Shell.StartDetached(null, paths.LogFile("host"), self, "host", "--run-dir", paths.Run, "--grant-limit", grantLimit.ToString(CultureInfo.InvariantCulture));
        await WaitForAsync(() => File.Exists(paths.StoreSocket) && File.Exists(paths.Remote.StoreSocket) && File.Exists(paths.PidFile("host")), TimeSpan.FromSeconds(10), "the simulated hosts' store sockets");

        BuildNetwork(guests);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using (var remote = XenStoreClient.ConnectSocket(paths.Remote.StoreSocket))
        {
            await Toolstack.WriteDom0Async(remote, cts.Token);
        }

        await using (var store = XenStoreClient.ConnectSocket(paths.StoreSocket))
        {
            await Toolstack.WriteDom0Async(store, cts.Token);
            foreach (var guest in guests)
            {
                await Toolstack.CreateDomainAsync(store, ToToolstack(guest), cts.Token);
            }
        }

        foreach (var guest in guests)
        {
            await Lifecycle.AttachDevicesAsync(paths, guest);
        }

        if (bypass)
        {
            StartDom0Daemon(paths, bin);
            foreach (var guest in guests)
            {
                StartGuestDaemon(paths, bin, guest);
            }

            await WaitForPairingAsync(guests, TimeSpan.FromSeconds(waitSeconds));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"simulated host up: {count} guests, {(bypass ? "XenVMC bypass on" : "bridge path only (--no-bypass)")}; store at {paths.StoreSocket}"));
        return 0;
    }

    public static void StartDom0Daemon(SimPaths paths, string bin) =>
        Shell.StartDetached(SimPaths.Dom0Namespace, paths.LogFile("dom0"), Path.Combine(bin, "xenvmc-dom0"), "--store", paths.StoreSocket, "--pid-file", paths.PidFile("dom0"));

    public static void StartGuestDaemon(SimPaths paths, string bin, GuestState guest) =>
        Shell.StartDetached(guest.Namespace, paths.LogFile(guest.Namespace), Path.Combine(bin, "xenvmc-guest"),
            "--platform", "sim", "--xenbus", paths.GuestXenbus(guest.Namespace), "--hypervisor", paths.GuestHypervisor(guest.Namespace),
            "--pid-file", paths.PidFile(guest.Namespace));

    public static Toolstack.Guest ToToolstack(GuestState g) =>
        new(g.Domid, g.Namespace, g.Bridge, g.Mac, g.Ipv4, g.Ipv6, string.Create(CultureInfo.InvariantCulture, $"00000000-0000-4000-8000-{g.Domid:x12}"));

    private static string[] ParseBridges(string? spec, int count)
    {
        if (spec is null)
        {
            return Enumerable.Repeat("xenbr0", count).ToArray();
        }

        // "xenbr0,xenbr0,xenbr1": guest i on the i-th bridge named.
        string[] names = spec.Split(',', StringSplitOptions.TrimEntries);
        if (names.Length != count || names.Any(n => n.Length is 0 or > 15 || !n.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
        {
            throw new UsageException($"--bridges '{spec}': give {count} comma-separated bridge names (one per guest, up to 15 letters, digits, - or _)");
        }

        return names;
    }

    private static void BuildNetwork(IReadOnlyList<GuestState> guests)
    {
        string dom0 = SimPaths.Dom0Namespace;
        Shell.Run("ip", "netns", "add", dom0);
        Shell.Run("ip", "-n", dom0, "link", "set", "lo", "up");
        foreach (string bridge in guests.Select(g => g.Bridge).Distinct())
        {
            Shell.Run("ip", "-n", dom0, "link", "add", bridge, "type", "bridge");
            Shell.Run("ip", "-n", dom0, "link", "set", bridge, "up");
        }

        foreach (var g in guests)
        {
            string vif = string.Create(CultureInfo.InvariantCulture, $"vif{g.Domid}.0");
            Shell.Run("ip", "netns", "add", g.Namespace);
            Shell.Run("ip", "link", "add", vif, "netns", dom0, "type", "veth", "peer", "name", "eth0", "netns", g.Namespace);
            Shell.Run("ip", "-n", dom0, "link", "set", vif, "master", g.Bridge, "up");
            Shell.Run("ip", "-n", g.Namespace, "link", "set", "lo", "up");
            Shell.Run("ip", "-n", g.Namespace, "link", "set", "eth0", "address", g.Mac);
            Shell.Run("ip", "-n", g.Namespace, "addr", "add", g.Ipv4 + "/24", "dev", "eth0");
            Shell.Run("ip", "-n", g.Namespace, "addr", "add", g.Ipv6 + "/64", "dev", "eth0", "nodad");
            Shell.Run("ip", "-n", g.Namespace, "link", "set", "eth0", "up");
        }
    }

    /// <summary>Waits until every guest routes each same-bridge peer (IPv4 and IPv6) through vmc0.</summary>
    public static async Task WaitForPairingAsync(IReadOnlyList<GuestState> guests, TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero)
        {
            return;
        }

        await WaitForAsync(() => guests.All(g => HasRoutesToPeers(g, guests)), timeout, "every guest to pair with its same-bridge peers");
    }

    public static bool HasRoutesToPeers(GuestState guest, IReadOnlyList<GuestState> guests)
    {
        var peers = guests.Where(p => p.Domid != guest.Domid && p.Bridge == guest.Bridge).ToList();
        if (peers.Count == 0)
        {
            return true;
        }

        var routed = BypassRoutes(guest.Namespace);
        return peers.All(p => routed.Contains(p.Ipv4) && routed.Contains(p.Ipv6));
    }

    /// <summary>Destinations routed through vmc0 in a namespace, from <c>ip -j route</c>.</summary>
    public static HashSet<string> BypassRoutes(string netns)
    {
        var result = new HashSet<string>();
        foreach (string family in new[] { "-4", "-6" })
        {
            var (exit, output, _) = Shell.Run("ip", ["-n", netns, "-j", family, "route", "show", "dev", "vmc0"], check: false);
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
}
