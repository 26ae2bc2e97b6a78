using Microsoft.Extensions.Logging;
using XenVmc.Guest.DataPath;
using XenVmc.Guest.Status;
using XenVmc.Linux;
using XenVmc.Platform;
using XenVmc.Platform.Layout;
using XenVmc.XenStore;

namespace XenVmc.Guest;

/// <summary>
/// xenvmc-guest: attaches the TUN, announces itself in XenStore, follows the peer table Dom0
/// keeps for it, and keeps one <see cref="PeerLink"/> per listed peer.
/// </summary>
public sealed class GuestDaemon
{
    private readonly Dictionary<ushort, (PeerLink Link, CancellationTokenSource Stop, Task Task)> _links = [];
    private readonly Lock _linksLock = new();

    private GuestDaemon()
    {
    }

    /// <summary>Runs until <paramref name="ct"/> is cancelled; <paramref name="ready"/> is called once the daemon serves.</summary>
    public static async Task RunAsync(IXenPlatform platform, GuestOptions options, ILogger logger, Action<string>? ready, Action<string>? status, CancellationToken ct)
    {
        options.Validate();
        var log = new GuestLog(logger);
        await using var store = platform.OpenStore();
        string domidText = await store.ReadStringAsync("domid", default, ct).ConfigureAwait(false);
        if (!XenVmcPaths.TryParseDomid(domidText, out ushort domid))
        {
            throw new InvalidOperationException($"XenStore key 'domid' holds '{domidText}', not a domain id");
        }

        var context = new GuestContext(domid, store, platform, options, log);
        using var tun = TunDevice.Open(options.Interface, new TunOpenOptions { VnetHeader = true, NonBlocking = true });
        NetworkInterfaces.SetMtu(tun.Name, options.Mtu);
        ConfigureSysctls(tun.Name);
        NetworkInterfaces.SetUp(tun.Name, true);
        using var routes = new RouteManager(RtNetlink.Open(), tun.IfIndex, options.RouteProtocol);
        int flushed = routes.Flush();
        if (flushed > 0)
        {
            log.FlushedRoutes(flushed, options.RouteProtocol);
        }

        using var dataPath = new GuestDataPath(tun, routes, log);
        dataPath.SetLocalAddresses(routes.RefreshOwnAddresses());
        dataPath.Start();
        log.Started(domid, tun.Name, tun.VnetHeader, tun.UdpSegmentationOffload, options.Mtu);

        var daemon = new GuestDaemon();
        await using var statusServer = StatusServer.Start(options.StatusSocket, () => daemon.Snapshot(context, dataPath), log);
        await AnnounceAsync(context, ct).ConfigureAwait(false);
        ready?.Invoke($"domain {domid}, {tun.Name} attached");
        try
        {
            await daemon.FollowPeerTableAsync(context, dataPath, status, ct).ConfigureAwait(false);
        }
        finally
        {
            await daemon.StopAllAsync().ConfigureAwait(false);
            await WithdrawAsync(context).ConfigureAwait(false);
        }
    }

    private async Task FollowPeerTableAsync(GuestContext context, GuestDataPath dataPath, Action<string>? status, CancellationToken ct)
    {
        await using var watch = await context.Store.WatchAsync(XenVmcPaths.PeerTable(context.Domid), context.NextToken(), ct).ConfigureAwait(false);
        while (true)
        {
            await context.WaitForEventAsync(watch, Timeout.InfiniteTimeSpan, ct).ConfigureAwait(false);
            var table = await PeerTableReader.ReadAsync(context, ct).ConfigureAwait(false);
            dataPath.SetLocalAddresses(dataPath.Routes.RefreshOwnAddresses());
            Reconcile(context, dataPath, table);
            context.Log.PeerTable(table.Count, string.Join(", ", table.Keys.Order()));
            status?.Invoke($"{table.Count} peers");
        }
    }

    private void Reconcile(GuestContext context, GuestDataPath dataPath, Dictionary<ushort, PeerTableEntry> table)
    {
        lock (_linksLock)
        {
            foreach (var (peer, current) in _links.ToArray())
            {
                if (!table.TryGetValue(peer, out var entry) || entry.AddressText != current.Link.Entry.AddressText)
                {
                    current.Stop.Cancel();
                    _links.Remove(peer);
                }
            }

            foreach (var (peer, entry) in table)
            {
                if (!_links.ContainsKey(peer))
                {
                    var link = new PeerLink(context, dataPath, entry);
                    var stop = new CancellationTokenSource();
                    _links[peer] = (link, stop, Task.Run(() => link.RunAsync(stop.Token)));
                }
            }
        }
    }

    private async Task StopAllAsync()
    {
        Task[] tasks;
        lock (_linksLock)
        {
            foreach (var (_, stop, _) in _links.Values)
            {
                stop.Cancel();
            }

            tasks = [.. _links.Values.Select(l => l.Task)];
            _links.Clear();
        }

        await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    private StatusSnapshot Snapshot(GuestContext context, GuestDataPath dataPath)
    {
        PeerLink[] links;
        lock (_linksLock)
        {
            links = [.. _links.Values.Select(l => l.Link)];
        }

        return StatusSnapshot.Create(context, dataPath, links);
    }

    private static async Task AnnounceAsync(GuestContext context, CancellationToken ct)
    {
        // Channels left by an earlier run of ours describe pages that no longer exist.
        await context.RemoveAsync(XenVmcPaths.Channels(context.Domid), default, ct).ConfigureAwait(false);
        await context.Store.WriteAsync(XenVmcPaths.GuestVersion(context.Domid), XenVmcPaths.ProtocolVersion, default, ct).ConfigureAwait(false);
        await context.Store.WriteAsync(XenVmcPaths.GuestFeatures(context.Domid), XenVmcPaths.Features, default, ct).ConfigureAwait(false);
        await context.Store.WriteAsync(XenVmcPaths.GuestState(context.Domid), XenVmcPaths.Ready, default, ct).ConfigureAwait(false);
    }

    private static async Task WithdrawAsync(GuestContext context)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await context.RemoveAsync(XenVmcPaths.GuestState(context.Domid), default, timeout.Token).ConfigureAwait(false);
            await context.RemoveAsync(XenVmcPaths.Channels(context.Domid), default, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is XenStoreException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // Without a store there is nobody to tell.
        }
    }

    /// <summary>
    /// Packets from a peer arrive on the TUN with the peer's eth0 address as source; strict
    /// reverse-path filtering would drop them until our own route to that peer exists, so it is
    /// loosened on the TUN. The TUN needs no IPv6 link-local address: without one the kernel
    /// sends no router or neighbour solicitations into it.
    /// </summary>
    private static void ConfigureSysctls(string name)
    {
        foreach (var (path, value) in new[] { ($"/proc/sys/net/ipv4/conf/{name}/rp_filter", "2"), ($"/proc/sys/net/ipv6/conf/{name}/addr_gen_mode", "1") })
        {
            try
            {
                File.WriteAllText(path, value);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A read-only /proc/sys (a sandbox) leaves the defaults; the bypass still works.
            }
        }
    }
}
