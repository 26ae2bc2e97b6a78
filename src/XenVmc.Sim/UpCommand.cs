using System.Globalization;
using XenVmc.Guest;
using XenVmc.Platform.Hosting;
using XenVmc.Platform.Simulated;
using XenVmc.Rings;
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
        var cl = CommandLine.Parse(args, ["--guests", "--bridges", "--run-dir", "--wait", "--grant-limit"], ["--no-bypass", "--pods", "--pods-ungranted"]);
        var paths = new SimPaths(cl.Get("--run-dir", SimPaths.DefaultRunDirectory));
        int count = cl.GetInt("--guests", 2, 1, 200);
        int grantLimit = cl.GetInt("--grant-limit", SimHypervisorServer.DefaultGrantLimit, 1, 1 << 20);
        string[] bridges = ParseBridges(cl.Get("--bridges"), count);
        bool bypass = !cl.Has("--no-bypass");
        Prerequisites.Require("up", Prerequisites.Host);
        int waitSeconds = cl.GetInt("--wait", 30, 0, 600);
        if (HostState.Load(paths) is not null || Directory.Exists(Path.Combine("/run/netns", SimPaths.Dom0Namespace)))
        {
            throw new UsageException("a simulated host is already up; run `xenvmc-sim down` first");
        }

        bool pods = cl.Has("--pods") || cl.Has("--pods-ungranted");
        var guests = Enumerable.Range(1, count).Select(i => GuestState.Create(i, bridges[i - 1]) with { Pod = pods, Granted = cl.Has("--pods") }).ToList();
        var state = new HostState(bypass, guests, count + 1);
        Directory.CreateDirectory(paths.Logs);
        Directory.CreateDirectory(paths.Pids);
        state.Save(paths);
        string self = Environment.ProcessPath ?? throw new IOException("cannot tell where xenvmc-sim lives");
        string bin = Path.GetDirectoryName(self)!;

        Shell.StartDetached(null, paths.LogFile("host"), self, "host", "--run-dir", paths.Run, "--grant-limit", grantLimit.ToString(CultureInfo.InvariantCulture));
        await HostServices.WaitForAsync(() => File.Exists(paths.StoreSocket) && File.Exists(paths.Remote.StoreSocket) && File.Exists(paths.PidFile("host")), TimeSpan.FromSeconds(10), "the simulated hosts' store sockets");

        BuildNetwork(guests);
        if (pods)
        {
            BuildPods(guests);
        }

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
                await Toolstack.CreateDomainAsync(store, guest.ToToolstack(), cts.Token);
            }
        }

        foreach (var guest in guests)
        {
            await Lifecycle.AttachDevicesAsync(paths, guest);
        }

        if (bypass)
        {
            HostServices.StartDom0Daemon(paths, bin);
            foreach (var guest in guests)
            {
                HostServices.StartGuestDaemon(paths, bin, guest);
            }

            await WaitForPairingAsync(guests, TimeSpan.FromSeconds(waitSeconds), grantLimit);
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"simulated host up: {count} guests, {(bypass ? "XenVMC bypass on" : "bridge path only (--no-bypass)")}; store at {paths.StoreSocket}"));
        return 0;
    }

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

    /// <summary>
    /// A network behind each guest, as a container host or a Kubernetes node has: namespace
    /// xvmc-p&lt;i&gt; ("the pod", 10.244.i.5, fd00:244:i::5) behind a veth (pod0 in the guest,
    /// 10.244.i.1/24, fd00:244:i::1/64), the guest forwarding (ip_forward), and in every guest the
    /// operator's ordinary routes to the other guests' pod networks via their eth0 addresses.
    /// </summary>
    private static void BuildPods(IReadOnlyList<GuestState> guests)
    {
        foreach (var g in guests)
        {
            Shell.Run("ip", "netns", "add", g.PodNamespace);
            Shell.Run("ip", "link", "add", "pod0", "netns", g.Namespace, "type", "veth", "peer", "name", "eth0", "netns", g.PodNamespace);
            Shell.Run("ip", "-n", g.Namespace, "addr", "add", g.PodIpv4Network.Replace(".0/24", ".1/24", StringComparison.Ordinal), "dev", "pod0");
            Shell.Run("ip", "-n", g.Namespace, "addr", "add", g.PodIpv6Network.Replace("::/64", "::1/64", StringComparison.Ordinal), "dev", "pod0", "nodad");
            Shell.Run("ip", "-n", g.Namespace, "link", "set", "pod0", "up");
            Shell.Run("ip", "netns", "exec", g.Namespace, "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1");
            Shell.Run("ip", "-n", g.PodNamespace, "link", "set", "lo", "up");
            Shell.Run("ip", "-n", g.PodNamespace, "addr", "add", g.PodIpv4 + "/24", "dev", "eth0");
            Shell.Run("ip", "-n", g.PodNamespace, "addr", "add", g.PodIpv6 + "/64", "dev", "eth0", "nodad");
            Shell.Run("ip", "-n", g.PodNamespace, "link", "set", "eth0", "up");
            Shell.Run("ip", "-n", g.PodNamespace, "route", "add", "default", "via", g.PodIpv4Network.Replace(".0/24", ".1", StringComparison.Ordinal));
            Shell.Run("ip", "-n", g.PodNamespace, "-6", "route", "add", "default", "via", g.PodIpv6Network.Replace("::/64", "::1", StringComparison.Ordinal));
        }

        foreach (var g in guests)
        {
            foreach (var other in guests.Where(o => o.Index != g.Index && o.Bridge == g.Bridge))
            {
                Shell.Run("ip", "-n", g.Namespace, "route", "add", other.PodIpv4Network, "via", other.Ipv4);
                Shell.Run("ip", "-n", g.Namespace, "-6", "route", "add", other.PodIpv6Network, "via", other.Ipv6);
            }
        }
    }


    /// <summary>
    /// Waits until every guest routes each same-bridge peer (IPv4 and IPv6) through vmc0 that the
    /// grant limit lets it pair with, for as long as pairing makes progress: it fails only when no
    /// guest has gained a peer route for <paramref name="stall"/>. Pairing n guests takes time in
    /// n², so no fixed deadline fits every n. The lower domid of a pair grants the channel's pages,
    /// so a guest offers channels to at most <c>grantLimit / pages per channel</c> of its
    /// higher-domid peers; the rest stay on eth0 ("no grant budget"), as they would on Xen.
    /// </summary>
    public static async Task WaitForPairingAsync(IReadOnlyList<GuestState> guests, TimeSpan stall, int grantLimit)
    {
        if (stall <= TimeSpan.Zero)
        {
            return;
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var routed = guests.ToDictionary(g => g.Domid, _ => 0);
        int affordable = grantLimit / ChannelLayout.GrantedPages(new GuestOptions().RingBytes);
        int allPairs = guests.Sum(g => SameBridgePeers(g, guests).Count(p => p.Domid > g.Domid));
        int channels = guests.Sum(g => Math.Min(SameBridgePeers(g, guests).Count(p => p.Domid > g.Domid), affordable));
        int total = 2 * channels;
        int done = 0;
        var lastProgress = clock.Elapsed;
        var lastReport = clock.Elapsed;
        var pending = guests.Where(g => SameBridgePeers(g, guests).Count > 0).ToList();
        while (pending.Count > 0 && done < total)
        {
            foreach (var guest in pending.ToList())
            {
                int count = RoutedPeers(guest, guests);
                if (count > routed[guest.Domid])
                {
                    done += count - routed[guest.Domid];
                    routed[guest.Domid] = count;
                    lastProgress = clock.Elapsed;
                }

                if (count == SameBridgePeers(guest, guests).Count)
                {
                    pending.Remove(guest);
                }
            }

            if (pending.Count == 0 || done >= total)
            {
                break;
            }

            if (clock.Elapsed - lastProgress > stall)
            {
                throw new TimeoutException(string.Create(CultureInfo.InvariantCulture,
                    $"pairing stalled: {done} of {total} guest-to-peer routes after {clock.Elapsed.TotalSeconds:0} s, none new for {stall.TotalSeconds:0} s (guests still waiting: {string.Join(' ', pending.Select(g => g.Namespace))}); see the logs under {SimPaths.DefaultRunDirectory}/logs"));
            }

            if (clock.Elapsed - lastReport > TimeSpan.FromSeconds(5))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"pairing: {done} of {total} guest-to-peer routes after {clock.Elapsed.TotalSeconds:0} s"));
                lastReport = clock.Elapsed;
            }

            // Each look is two `ip` runs per guest still waiting: poll gently, the daemons need the CPU.
            await Task.Delay(guests.Count > 8 ? 500 : 50);
        }

        if (total > 0)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"paired: all {channels} channels ({total} guest-to-peer routes) in {clock.Elapsed.TotalSeconds:0.0} s"));
        }

        if (allPairs > channels)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{allPairs - channels} pairs stay on eth0 with \"no grant budget\": a guest grants {affordable} channels at --grant-limit {grantLimit}; give --grant-limit {(guests.Count - 1) * ChannelLayout.GrantedPages(new GuestOptions().RingBytes)} to pair them all"));
        }
    }

    private static List<GuestState> SameBridgePeers(GuestState guest, IReadOnlyList<GuestState> guests) =>
        guests.Where(p => p.Domid != guest.Domid && p.Bridge == guest.Bridge).ToList();

    /// <summary>How many of the guest's same-bridge peers it routes through vmc0 (IPv4 and IPv6).</summary>
    private static int RoutedPeers(GuestState guest, IReadOnlyList<GuestState> guests)
    {
        var routed = HostServices.BypassRoutes(guest.Namespace);
        return SameBridgePeers(guest, guests).Count(p => routed.Contains(p.Ipv4) && routed.Contains(p.Ipv6) &&
            (p.Networks.Length == 0 || (routed.Contains(p.PodIpv4Network) && routed.Contains(p.PodIpv6Network))));
    }

}
