using Microsoft.Extensions.Logging;
using XenVmc.Guest.DataPath;
using XenVmc.Guest.Status;
using XenVmc.Linux;
using XenVmc.Platform;
using XenVmc.Platform.Hosting;
using XenVmc.Platform.Layout;
using XenVmc.XenStore;

namespace XenVmc.Guest;

/// <summary>
/// xenvmc-guest: attaches the TUN, then runs one session per XenStore connection: announce
/// ourselves, follow the peer table Dom0 keeps for us, keep one <see cref="PeerLink"/> per listed
/// peer. A session ends when the store connection is lost (our domain was released here: it
/// migrated away or is going down) or when the toolstack asks us to suspend; every channel and
/// route goes with it, and the next session starts on whatever store the domain reaches then,
/// possibly under a new domain id.
/// </summary>
/// <remarks>
/// Design: the TUN, its data path and the status server outlive sessions, so packets for peers
/// simply fall back to eth0 between sessions (no route through vmc0 exists then). Links are owned
/// by the session's control loop; status requests read them under <see cref="_linksLock"/>.
/// </remarks>
public sealed partial class GuestDaemon
{
    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromMilliseconds(100);

    /// <summary>How often an unusable <c>domid</c> key is read again.</summary>
    private static readonly TimeSpan BadDomidDelay = TimeSpan.FromSeconds(1);

    /// <summary>The unusable <c>domid</c> value last logged (session loop only).</summary>
    private string? _badDomid;

    private readonly Dictionary<ushort, (PeerLink Link, CancellationTokenSource Stop, Task Task)> _links = [];
    private readonly List<PeerLink> _departing = [];
    private readonly PeerCounters _retired = new();
    private readonly Lock _linksLock = new();
    private readonly IXenPlatform _platform;
    private readonly GuestOptions _options;
    private readonly GuestLog _log;
    private readonly GuestDataPath _dataPath;
    private volatile GuestContext? _context;
    private volatile IReadOnlyList<HeldPeer> _held = [];
    private Firewall.GuestFirewallWatch? _firewall;
    private int _sessions;
    private string? _grantText;

    private GuestDaemon(IXenPlatform platform, GuestOptions options, GuestLog log, GuestDataPath dataPath)
    {
        _platform = platform;
        _options = options;
        _log = log;
        _dataPath = dataPath;
    }

    /// <summary>Runs until <paramref name="ct"/> is cancelled; <paramref name="ready"/> is called once the daemon serves.</summary>
    public static async Task RunAsync(IXenPlatform platform, GuestOptions options, ILogger logger, Action<string>? ready, Action<string>? status, CancellationToken ct, IServiceMonitor? monitor = null)
    {
        options.Validate();
        var log = new GuestLog(logger);
        using var tun = TunAttach.Open(options.Interface, new TunOpenOptions { VnetHeader = true, NonBlocking = true });
        NetworkInterfaces.SetMtu(tun.Name, options.Mtu);
        ConfigureSysctls(tun.Name, log);
        NetworkInterfaces.SetUp(tun.Name, true);
        using var routes = new RouteManager(RtNetlink.Open(), tun.IfIndex, options.RouteProtocol);
        int flushed = routes.Flush();
        if (flushed > 0)
        {
            log.FlushedRoutes(flushed, options.RouteProtocol);
        }

        using var dataPath = new GuestDataPath(tun, routes, log) { PollMicroseconds = options.PollMicroseconds, CoalesceUdp = options.CoalesceUdp };
        dataPath.SetLocalAddresses(routes.RefreshOwnAddresses());
        dataPath.Start();
        log.Started(tun.Name, tun.VnetHeader, tun.UdpSegmentationOffload, options.Mtu);

        var daemon = new GuestDaemon(platform, options, log, dataPath);
        monitor?.Watch(daemon.UnhealthyReason, daemon.StatusLine);
        await using var firewall = Firewall.GuestFirewallWatch.Start(tun.Name, log);
        daemon._firewall = firewall;
        await using var statusServer = StatusServer.Start(options.StatusSocket, daemon.Snapshot, log);
        try
        {
            await daemon.RunSessionsAsync(ready, status, ct).ConfigureAwait(false);
        }
        finally
        {
            // The routes went with the sessions; the rules for our granted sources go too.
            try
            {
                routes.Flush();
            }
            catch (LinuxException)
            {
                // A restarted daemon flushes what is left.
            }
        }
    }

    /// <summary>One session after another until we are told to stop.</summary>
    private async Task RunSessionsAsync(Action<string>? ready, Action<string>? status, CancellationToken ct)
    {
        ushort lastDomid = 0;
        bool waitingLogged = false;
        while (true)
        {
            XenStoreClient store;
            try
            {
                store = _platform.OpenStore();
            }
            catch (XenStoreConnectionException e)
            {
                // Between hosts while migrating, or the store is not up yet: keep knocking.
                if (!waitingLogged)
                {
                    _log.StoreUnavailable(e.Message);
                    waitingLogged = true;
                }

                await Task.Delay(ReconnectDelay, ct).ConfigureAwait(false);
                continue;
            }

            waitingLogged = false;
            await using (store.ConfigureAwait(false))
            {
                lastDomid = await RunSessionAsync(store, lastDomid, ready, status, ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Returns the domain id the session ran as.</summary>
    private async Task<ushort> RunSessionAsync(XenStoreClient store, ushort lastDomid, Action<string>? ready, Action<string>? status, CancellationToken ct)
    {
        ushort domid;
        try
        {
            string domidText = await store.ReadStringAsync("domid", default, ct).ConfigureAwait(false);
            if (!XenVmcPaths.TryParseDomid(domidText, out domid))
            {
                // The store's content, not our bug: say so once per value and ask again later.
                if (domidText != _badDomid)
                {
                    _badDomid = domidText;
                    _log.BadDomid(domidText);
                }

                await Task.Delay(BadDomidDelay, ct).ConfigureAwait(false);
                return lastDomid;
            }

            _badDomid = null;
        }
        catch (Exception e) when (IsStoreLoss(e, ct))
        {
            await Task.Delay(ReconnectDelay, ct).ConfigureAwait(false);
            return lastDomid;
        }

        if (_sessions++ > 0)
        {
            // Whatever the hypervisor gave our old domain is gone with it.
            _platform.Resume();
            if (domid != lastDomid)
            {
                _log.DomainChanged(lastDomid, domid);
            }
        }

        var context = new GuestContext(domid, store, _platform, _options, _log, _dataPath.Resume);
        _context = context;
        string ended;
        SessionEnd end = SessionEnd.StoreLost;
        try
        {
            await AnnounceAsync(context, ct).ConfigureAwait(false);
            _log.SessionStarted(domid);
            ready?.Invoke($"domain {domid}, {_dataPath.InterfaceName} attached");
            (end, ended) = await FollowPeerTableAsync(context, status, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (IsStoreLoss(e, ct))
        {
            ended = $"XenStore connection lost ({e.Message})";
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            await StopAllAsync().ConfigureAwait(false);
            await WithdrawAsync(context).ConfigureAwait(false);
            throw;
        }
        finally
        {
            await StopAllAsync().ConfigureAwait(false);
        }

        _log.SessionEnded(domid, ended);
        status?.Invoke($"domain {domid}: {ended}");
        switch (end)
        {
            case SessionEnd.Suspend:
                await SuspendAsync(context, ct).ConfigureAwait(false);
                break;
            case SessionEnd.Halt:
                await HaltAsync(context, ct).ConfigureAwait(false);
                break;
        }

        return domid;
    }

    private enum SessionEnd
    {
        /// <summary>The store connection failed: our domain here is gone (migrated, destroyed) or the store restarts.</summary>
        StoreLost,

        /// <summary>The toolstack asked for a suspend (a migration or save): withdraw, then start over.</summary>
        Suspend,

        /// <summary>Poweroff, reboot, halt: the domain is going down; stay withdrawn until we are stopped.</summary>
        Halt,

        /// <summary>Our domain id changed under an open connection (a real guest's xenbus survives migration).</summary>
        Moved,
    }

    /// <summary>
    /// Follows the peer table until the toolstack writes a shutdown request or our domain id
    /// changes, and says which and why. The store failing ends it by exception.
    /// </summary>
    /// <remarks>
    /// On real Xen the guest kernel answers <c>control/shutdown</c> itself and clears it at once,
    /// so the request may be gone by the time we read it; the relative <c>domid</c> watch (which
    /// the kernel re-registers on resume, and which fires on registration) catches the migration then.
    /// </remarks>
    private async Task<(SessionEnd End, string Reason)> FollowPeerTableAsync(GuestContext context, Action<string>? status, CancellationToken ct)
    {
        // The root covers both the peers and our own grant (self/ip).
        await using var tableWatch = await context.Store.WatchAsync(XenVmcPaths.PeerTableRoot(context.Domid), context.NextToken(), ct).ConfigureAwait(false);
        await using var shutdownWatch = await context.Store.WatchAsync(XenVmcPaths.ShutdownRequest(context.Domid), context.NextToken(), ct).ConfigureAwait(false);
        await using var domidWatch = await context.Store.WatchAsync("domid", context.NextToken(), ct).ConfigureAwait(false);
        await using var heldWatch = await context.Store.WatchAsync(XenVmcPaths.Held(context.Domid), context.NextToken(), ct).ConfigureAwait(false);
        while (true)
        {
            await context.WaitForAnyAsync([tableWatch, shutdownWatch, domidWatch, heldWatch], ct).ConfigureAwait(false);
            string? domidText = await context.TryReadAsync("domid", ct).ConfigureAwait(false);
            if (domidText is not null && (!XenVmcPaths.TryParseDomid(domidText, out ushort now) || now != context.Domid))
            {
                return (SessionEnd.Moved, $"our domain id is now '{Printable(domidText)}'");
            }

            string? request = await context.TryReadAsync(XenVmcPaths.ShutdownRequest(context.Domid), ct).ConfigureAwait(false);
            if (!string.IsNullOrEmpty(request))
            {
                request = Printable(request);
                return request == "suspend"
                    ? (SessionEnd.Suspend, "the toolstack asked the domain to suspend")
                    : (SessionEnd.Halt, $"the toolstack asked the domain to {request}");
            }

            var table = await PeerTableReader.ReadAsync(context, ct).ConfigureAwait(false);
            _held = await PeerTableReader.ReadHeldAsync(context, ct).ConfigureAwait(false);
            var grant = await PeerTableReader.ReadSelfAsync(context, ct).ConfigureAwait(false);
            _dataPath.SetLocalAddresses(_dataPath.Routes.RefreshOwnAddresses());
            _dataPath.SetOwnGrant(grant);
            ApplyGrant(grant);
            Reconcile(context, table);
            context.Log.PeerTable(table.Count, string.Join(", ", table.Keys.Order()));
            status?.Invoke($"domain {context.Domid}: {table.Count} peers");
        }
    }

    /// <summary>Our own grant decides which sources consult the peer routes; a rule the kernel refuses is logged, never fatal.</summary>
    private void ApplyGrant(IReadOnlyList<IpPrefix> grant)
    {
        string text = string.Join(' ', grant);
        try
        {
            _dataPath.Routes.SetGrant(grant);
            if (text != _grantText)
            {
                _grantText = text;
                _log.OwnGrant(text.Length == 0 ? "none (nothing of ours enters the bypass)" : text);
            }
        }
        catch (LinuxException e)
        {
            _log.OwnGrantFailed(text, e.Message);
        }
    }

    /// <summary>A store value for a log line: at most 32 characters, control characters replaced.</summary>
    private static string Printable(string value)
    {
        var text = value.Length > 32 ? value[..32] : value;
        return string.Create(text.Length, text, static (span, source) =>
        {
            for (int i = 0; i < span.Length; i++)
            {
                span[i] = char.IsControl(source[i]) ? '?' : source[i];
            }
        });
    }

    /// <summary>
    /// Channels and routes are already gone. Say so, then wait for the domain to move (the store
    /// connection drops) or for the request to be withdrawn (a cancelled suspend), and end the
    /// session either way: the next one re-registers.
    /// </summary>
    private static async Task SuspendAsync(GuestContext context, CancellationToken ct)
    {
        try
        {
            await context.RemoveAsync(XenVmcPaths.Channels(context.Domid), default, ct).ConfigureAwait(false);
            await context.Store.WriteAsync(XenVmcPaths.GuestState(context.Domid), XenVmcPaths.Suspended, default, ct).ConfigureAwait(false);
            await using var watch = await context.Store.WatchAsync(XenVmcPaths.ShutdownRequest(context.Domid), context.NextToken(), ct).ConfigureAwait(false);
            while (!string.IsNullOrEmpty(await context.TryReadAsync(XenVmcPaths.ShutdownRequest(context.Domid), ct).ConfigureAwait(false)))
            {
                await context.WaitForEventAsync(watch, TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (IsStoreLoss(e, ct))
        {
            // The expected end of a migration: our domain here is released.
        }
    }

    /// <summary>
    /// The domain is going down. Withdraw and stay withdrawn until the daemon is stopped: the
    /// guest kernel clears the request as it acts on it, and re-registering then would only have
    /// peers pair with a domain that is about to vanish.
    /// </summary>
    private async Task HaltAsync(GuestContext context, CancellationToken ct)
    {
        await WithdrawAsync(context).ConfigureAwait(false);
        _log.Halted();
        await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// What ends a session for a new one to start: the store failing (a timed-out request
    /// included), or the kernel refusing a netlink request the session made (a new session
    /// tries again).
    /// </summary>
    private static bool IsStoreLoss(Exception e, CancellationToken ct) =>
        !ct.IsCancellationRequested && (XenStoreFailure.Is(e) || e is OperationCanceledException or LinuxException);

    private void Reconcile(GuestContext context, Dictionary<ushort, PeerTableEntry> table)
    {
        lock (_linksLock)
        {
            foreach (var (peer, current) in _links.ToArray())
            {
                if (!table.TryGetValue(peer, out var entry) || entry.AddressText != current.Link.Entry.AddressText)
                {
                    Retire(peer, current);
                }
            }

            foreach (var (peer, entry) in table)
            {
                if (!_links.ContainsKey(peer))
                {
                    var link = new PeerLink(context, _dataPath, entry);
                    var stop = new CancellationTokenSource();
                    _links[peer] = (link, stop, Task.Run(() => link.RunAsync(stop.Token)));
                }
            }
        }
    }

    /// <summary>Stops a link; its counters join the retired totals once its teardown has counted what it lost.</summary>
    private Task Retire(ushort peer, (PeerLink Link, CancellationTokenSource Stop, Task Task) current)
    {
        current.Stop.Cancel();
        _links.Remove(peer);
        _departing.Add(current.Link);
        return current.Task.ContinueWith(
            _ =>
            {
                lock (_linksLock)
                {
                    _departing.Remove(current.Link);
                    _retired.Add(current.Link.Counters);
                }

                current.Stop.Dispose();
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private async Task StopAllAsync()
    {
        Task[] tasks;
        lock (_linksLock)
        {
            tasks = [.. _links.ToArray().Select(l => Retire(l.Key, l.Value))];
        }

        await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    private StatusSnapshot Snapshot()
    {
        var context = _context;
        PeerLink[] links;
        var totals = new PeerCounters();
        lock (_linksLock)
        {
            links = [.. _links.Values.Select(l => l.Link)];
            totals.Add(_retired);
            foreach (var link in links.Concat(_departing))
            {
                totals.Add(link.Counters);
            }
        }

        return StatusSnapshot.Create(context?.Domid ?? 0, _platform.Name, _dataPath, links, totals, _sessions) with { Held = _held, FirewallWarning = _firewall?.Warning };
    }

    private static async Task AnnounceAsync(GuestContext context, CancellationToken ct)
    {
        // Channels left by an earlier run of ours describe pages that no longer exist.
        await context.RemoveAsync(XenVmcPaths.Channels(context.Domid), default, ct).ConfigureAwait(false);
        await context.Store.WriteAsync(XenVmcPaths.GuestVersion(context.Domid), XenVmcPaths.ProtocolVersion, default, ct).ConfigureAwait(false);
        await context.Store.WriteAsync(XenVmcPaths.GuestFeatures(context.Domid), XenVmcPaths.Features, default, ct).ConfigureAwait(false);
        await context.Store.WriteAsync(XenVmcPaths.GuestState(context.Domid), XenVmcPaths.Ready, default, ct).ConfigureAwait(false);
    }
}
