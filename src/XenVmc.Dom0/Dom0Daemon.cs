using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using XenVmc.Platform.Layout;
using XenVmc.XenStore;

namespace XenVmc.Dom0;

/// <summary>
/// xenvmc-dom0: decides which guests are co-resident and allowed to pair, and keeps each
/// guest's peer table in XenStore (owned by Dom0, readable only by that guest).
/// </summary>
/// <remarks>
/// Design: every watch (domain introduction and release, the vif backends, each guest's
/// <c>data/xenvmc/state</c>) only marks the state dirty; one loop recomputes the whole picture
/// from XenStore and writes the differences in one transaction. Recomputing from scratch makes
/// a restarted daemon reconcile what it finds without tearing down anything still valid:
/// unchanged tables are not written, so guests see no event at all.
/// </remarks>
public sealed class Dom0Daemon
{
    private readonly XenStoreClient _store;
    private readonly Dom0Log _log;
    private readonly PairingRules _rules;
    private readonly Channel<bool> _dirty = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Dictionary<ushort, (XsWatch Watch, Task Pump)> _stateWatches = [];
    private Dictionary<(ushort, ushort), string> _heldLogged = [];
    private Dom0FilterWatch? _filters;
    private const int MaxHeldReason = 240;
    private int _token;
    private string _lastConflicts = "";

    private Dom0Daemon(XenStoreClient store, ILogger logger, PairingRules rules)
    {
        _store = store;
        _rules = rules;
        _log = new Dom0Log(logger);
    }

    /// <param name="readFilters">Honour Dom0's packet filters (the program always does; tests of the other logic may leave them out).</param>
    public static async Task RunAsync(XenStoreClient store, ILogger logger, Action<string>? ready, Action<string>? status, CancellationToken ct, PairingRules? rules = null, bool readFilters = false)
    {
        var daemon = new Dom0Daemon(store, logger, rules ?? PairingRules.Default);
        await using var filters = readFilters ? await Dom0FilterWatch.StartAsync(daemon.MarkDirty, daemon._log, ct).ConfigureAwait(false) : null;
        daemon._filters = filters;
        var watches = new List<XsWatch>
        {
            await store.WatchAsync("@introduceDomain", daemon.NextToken(), ct).ConfigureAwait(false),
            await store.WatchAsync("@releaseDomain", daemon.NextToken(), ct).ConfigureAwait(false),
            await store.WatchAsync(XenVmcPaths.VifBackends(), daemon.NextToken(), ct).ConfigureAwait(false),
        };
        var pumps = watches.Select(w => daemon.PumpAsync(w, ct)).ToList();
        bool serving = false;
        try
        {
            // The first pass and every later one take the same path, so a failure at start (a
            // transaction that kept conflicting, a node vanishing mid-read) is retried, not fatal.
            daemon.MarkDirty();
            while (await daemon._dirty.Reader.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                daemon._dirty.Reader.TryRead(out _);
                try
                {
                    int guests = await daemon.ReconcileAsync(ct).ConfigureAwait(false);
                    if (!serving)
                    {
                        serving = true;
                        daemon._log.Started(guests);
                        ready?.Invoke($"{guests} guests with vifs");
                    }
                    else
                    {
                        status?.Invoke($"{guests} guests with vifs");
                    }
                }
                catch (XenStoreException e)
                {
                    daemon._log.ReconcileFailed(e.Message);
                    daemon.MarkDirty();
                    await Task.Delay(200, ct).ConfigureAwait(false);
                    continue;
                }

                // Let a burst of related writes (a toolstack creating a domain) settle into one pass.
                await Task.Delay(20, ct).ConfigureAwait(false);
            }
        }
        finally
        {
            foreach (var watch in watches.Concat(daemon._stateWatches.Values.Select(s => s.Watch)))
            {
                await watch.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private string NextToken() => "xenvmc-dom0-" + Interlocked.Increment(ref _token).ToString(CultureInfo.InvariantCulture);

    private void MarkDirty() => _dirty.Writer.TryWrite(true);

    private async Task PumpAsync(XsWatch watch, CancellationToken ct)
    {
        try
        {
            await foreach (string _ in watch.Events.ReadAllAsync(ct).ConfigureAwait(false))
            {
                MarkDirty();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task<int> ReconcileAsync(CancellationToken ct)
    {
        var guests = await ReadGuestsAsync(ct).ConfigureAwait(false);
        await FollowGuestStatesAsync(guests.Keys, ct).ConfigureAwait(false);
        var grants = Grants.Compute(guests.Values.Where(g => g.Introduced), _rules);
        string conflicts = string.Join("; ", grants.Conflicts);
        if (conflicts != _lastConflicts)
        {
            _lastConflicts = conflicts;
            foreach (string conflict in grants.Conflicts)
            {
                _log.GrantWithheld(conflict);
            }
        }

        var held = new Dictionary<ushort, Dictionary<ushort, string>>();
        var desired = PairingPolicy.Compute(guests.Values, _rules, grants, _filters?.Current, held);
        await _store.TransactAsync(async tx =>
        {
            foreach (var (domid, table) in desired)
            {
                // The guest's own grant only matters (and is only published) while it has peers.
                var self = table.Count > 0 ? grants.All(domid) : [];
                await WriteTableAsync(domid, table, self, tx, ct).ConfigureAwait(false);
                await WriteHeldAsync(domid, held.GetValueOrDefault(domid) ?? [], tx, ct).ConfigureAwait(false);
            }
        }, ct).ConfigureAwait(false);
        LogHeldChanges(held);
        return guests.Count;
    }

    /// <summary>Watches each guest's <c>data/xenvmc/state</c> so a daemon starting or stopping is noticed.</summary>
    private async Task FollowGuestStatesAsync(IEnumerable<ushort> domids, CancellationToken ct)
    {
        var wanted = domids.ToHashSet();
        foreach (var gone in _stateWatches.Keys.Where(d => !wanted.Contains(d)).ToList())
        {
            await _stateWatches[gone].Watch.DisposeAsync().ConfigureAwait(false);
            _stateWatches.Remove(gone);
        }

        foreach (ushort domid in wanted.Where(d => !_stateWatches.ContainsKey(d)))
        {
            var watch = await _store.WatchAsync(XenVmcPaths.GuestState(domid), NextToken(), ct).ConfigureAwait(false);
            _stateWatches[domid] = (watch, PumpAsync(watch, ct));
        }
    }

    private async Task<Dictionary<ushort, GuestInfo>> ReadGuestsAsync(CancellationToken ct)
    {
        var guests = new Dictionary<ushort, GuestInfo>();
        string root = XenVmcPaths.VifBackends();
        foreach (string child in await _store.TryDirectoryAsync(root, default, ct).ConfigureAwait(false))
        {
            if (!XenVmcPaths.TryParseDomid(child, out ushort domid) || domid == 0)
            {
                continue;
            }

            var vifs = new List<VifBackend>();
            foreach (string dev in await _store.TryDirectoryAsync($"{root}/{child}", default, ct).ConfigureAwait(false))
            {
                if (await ReadVifAsync(domid, dev, ct).ConfigureAwait(false) is { } vif)
                {
                    vifs.Add(vif);
                }
            }

            bool introduced = await _store.IsDomainIntroducedAsync(domid, ct).ConfigureAwait(false);
            bool ready = await TryReadAsync(XenVmcPaths.GuestState(domid), default, ct).ConfigureAwait(false) == XenVmcPaths.Ready;
            string name = await TryReadAsync($"/local/domain/{child}/name", default, ct).ConfigureAwait(false) ?? "";
            guests[domid] = new GuestInfo(domid, vifs, introduced, ready, name);
        }

        return guests;
    }

    private async Task<VifBackend?> ReadVifAsync(ushort domid, string dev, CancellationToken ct)
    {
        string path = $"{XenVmcPaths.VifBackends()}/{domid}/{dev}";
        if (!uint.TryParse(dev, NumberStyles.None, CultureInfo.InvariantCulture, out uint devid))
        {
            _log.VifRejected(path, "device id is not a number");
            return null;
        }

        string? bridge = await TryReadAsync(path + "/bridge", default, ct).ConfigureAwait(false);
        string? ip = await TryReadAsync(path + "/ip", default, ct).ConfigureAwait(false);
        string? mac = await TryReadAsync(path + "/mac", default, ct).ConfigureAwait(false);
        string? online = await TryReadAsync(path + "/online", default, ct).ConfigureAwait(false);
        string vifname = await TryReadAsync(path + "/vifname", default, ct).ConfigureAwait(false) ?? "";
        if (string.IsNullOrEmpty(bridge))
        {
            return null;
        }

        if (ip is null)
        {
            // Without an ip key Dom0 does not know the guest's address, and a guest's own claim is not enough.
            return new VifBackend(domid, devid, bridge, [], mac ?? "", online == "1", vifname);
        }

        if (!PeerTableEntry.TryParseAddresses(ip, out var addresses, out string? error))
        {
            _log.VifRejected(path, error ?? "bad ip");
            return null;
        }

        return new VifBackend(domid, devid, bridge, addresses, PeerTableEntry.IsValidMac(mac) ? mac! : "", online == "1", vifname);
    }

    /// <summary>Brings one guest's table to <paramref name="table"/>, touching only what differs.</summary>
    private async Task WriteTableAsync(ushort domid, Dictionary<ushort, PeerTableEntry> table, IReadOnlyList<IpPrefix> self, XsTransaction tx, CancellationToken ct)
    {
        string peers = XenVmcPaths.PeerTable(domid);
        string selfIp = XenVmcPaths.SelfAddresses(domid);
        var current = await _store.TryDirectoryAsync(peers, tx, ct).ConfigureAwait(false);
        string? currentSelf = await TryReadAsync(selfIp, tx, ct).ConfigureAwait(false);
        if (current.Count == 0 && table.Count == 0 && currentSelf is null)
        {
            return;
        }

        await EnsureRootAsync(domid, tx, ct).ConfigureAwait(false);
        bool changed = false;

        // The guest's own grant first: a guest that sees a new peer already knows its sources.
        string selfText = string.Join(' ', self);
        if (self.Count == 0 && currentSelf is not null)
        {
            await _store.RmAsync(XenVmcPaths.SelfEntry(domid), tx, ct).ConfigureAwait(false);
            changed = true;
        }
        else if (self.Count > 0 && currentSelf != selfText)
        {
            await _store.WriteAsync(selfIp, selfText, tx, ct).ConfigureAwait(false);
            changed = true;
        }

        changed |= await RemoveOthersAsync(peers, current, table.ContainsKey, tx, ct).ConfigureAwait(false);

        foreach (var (peer, entry) in table)
        {
            string ipPath = XenVmcPaths.PeerAddresses(domid, peer);
            string macPath = XenVmcPaths.PeerMac(domid, peer);
            string? ip = await TryReadAsync(ipPath, tx, ct).ConfigureAwait(false);
            string? mac = await TryReadAsync(macPath, tx, ct).ConfigureAwait(false);
            if (ip != entry.AddressText || mac != entry.Mac)
            {
                await _store.WriteAsync(macPath, entry.Mac, tx, ct).ConfigureAwait(false);
                await _store.WriteAsync(ipPath, entry.AddressText, tx, ct).ConfigureAwait(false);
                changed = true;
            }
        }

        if (changed)
        {
            _log.TableChanged(domid, string.Join(", ", table.Select(p => $"{p.Key} ({p.Value.AddressText})").Order(StringComparer.Ordinal)), selfText);
        }
    }

    private async Task EnsureRootAsync(ushort domid, XsTransaction tx, CancellationToken ct)
    {
        string root = XenVmcPaths.PeerTableRoot(domid);
        if (await TryReadAsync(root, tx, ct).ConfigureAwait(false) is null)
        {
            // Owned by Dom0, readable by this guest alone; entries below inherit it. Set once:
            // a permission write is an event for the guest's watch.
            await _store.MkdirAsync(root, tx, ct).ConfigureAwait(false);
            await _store.SetPermissionsAsync(root, [new(XsAccess.None, 0), new(XsAccess.Read, domid)], tx, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Brings the guest's held list (peers Dom0's filter keeps on the bridge, with the rule) to <paramref name="held"/>.</summary>
    private async Task WriteHeldAsync(ushort domid, Dictionary<ushort, string> held, XsTransaction tx, CancellationToken ct)
    {
        string root = XenVmcPaths.Held(domid);
        var current = await _store.TryDirectoryAsync(root, tx, ct).ConfigureAwait(false);
        if (current.Count == 0 && held.Count == 0)
        {
            return;
        }

        await EnsureRootAsync(domid, tx, ct).ConfigureAwait(false);
        await RemoveOthersAsync(root, current, held.ContainsKey, tx, ct).ConfigureAwait(false);

        foreach (var (peer, reason) in held)
        {
            string text = reason.Length > MaxHeldReason ? reason[..MaxHeldReason] : reason;
            if (await TryReadAsync(XenVmcPaths.HeldEntry(domid, peer), tx, ct).ConfigureAwait(false) != text)
            {
                await _store.WriteAsync(XenVmcPaths.HeldEntry(domid, peer), text, tx, ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Removes the children of <paramref name="dir"/> that are not a domid <paramref name="keep"/> accepts; true when any was removed.</summary>
    private async Task<bool> RemoveOthersAsync(string dir, IReadOnlyList<string> current, Func<ushort, bool> keep, XsTransaction tx, CancellationToken ct)
    {
        bool removed = false;
        foreach (string child in current)
        {
            if (!XenVmcPaths.TryParseDomid(child, out ushort peer) || !keep(peer))
            {
                await _store.RmAsync($"{dir}/{child}", tx, ct).ConfigureAwait(false);
                removed = true;
            }
        }

        return removed;
    }

    /// <summary>One log line per pair when it becomes held (or its rule changes) and when it is released, not one per pass.</summary>
    private void LogHeldChanges(Dictionary<ushort, Dictionary<ushort, string>> held)
    {
        var now = new Dictionary<(ushort, ushort), string>();
        foreach (var (a, peers) in held)
        {
            foreach (var (b, reason) in peers.Where(p => a < p.Key))
            {
                now[(a, b)] = reason;
                if (_heldLogged.GetValueOrDefault((a, b)) != reason)
                {
                    _log.PairHeld(a, b, reason);
                }
            }
        }

        foreach (var (a, b) in _heldLogged.Keys.Where(k => !now.ContainsKey(k)))
        {
            _log.PairReleased(a, b);
        }

        _heldLogged = now;
    }

    private async Task<string?> TryReadAsync(string path, XsTransaction tx, CancellationToken ct) =>
        await _store.TryReadStringAsync(path, tx, ct).ConfigureAwait(false);
}
