using XenVmc.Platform.Layout;
using XenVmc.XenStore;

namespace XenVmc.Guest;

/// <summary>Reads the peer table Dom0 keeps for us. Entries that do not parse are refused and logged, never trusted.</summary>
internal static class PeerTableReader
{
    public const int MaxPeers = 256;

    public static async Task<Dictionary<ushort, PeerTableEntry>> ReadAsync(GuestContext context, CancellationToken ct)
    {
        string table = XenVmcPaths.PeerTable(context.Domid);
        var result = new Dictionary<ushort, PeerTableEntry>();
        IReadOnlyList<string> children;
        try
        {
            children = await context.Store.DirectoryAsync(table, default, ct).ConfigureAwait(false);
        }
        catch (XenStoreException e) when (e.Error is XsError.ENOENT or XsError.EACCES)
        {
            return result;
        }

        foreach (string child in children.Take(MaxPeers))
        {
            string path = table + "/" + child;
            if (!XenVmcPaths.TryParseDomid(child, out ushort peer) || peer == context.Domid)
            {
                context.Log.PeerEntryRejected(path, "not another domain's id");
                continue;
            }

            string? ip = await context.TryReadAsync(XenVmcPaths.PeerAddresses(context.Domid, peer), ct).ConfigureAwait(false);
            string? mac = await context.TryReadAsync(XenVmcPaths.PeerMac(context.Domid, peer), ct).ConfigureAwait(false);
            if (!PeerTableEntry.TryParseAddresses(ip, out var addresses, out string? error))
            {
                context.Log.PeerEntryRejected(path, error ?? "bad addresses");
                continue;
            }

            result[peer] = new PeerTableEntry(peer, addresses, PeerTableEntry.IsValidMac(mac) ? mac! : "");
        }

        return result;
    }

    /// <summary>The peers Dom0 holds on the bridge (filtered in Dom0), with its reason shown as plain printable text.</summary>
    public static async Task<IReadOnlyList<Status.HeldPeer>> ReadHeldAsync(GuestContext context, CancellationToken ct)
    {
        string root = XenVmcPaths.Held(context.Domid);
        IReadOnlyList<string> children;
        try
        {
            children = await context.Store.DirectoryAsync(root, default, ct).ConfigureAwait(false);
        }
        catch (XenStoreException e) when (e.Error is XsError.ENOENT or XsError.EACCES)
        {
            return [];
        }

        var held = new List<Status.HeldPeer>();
        foreach (string child in children.Take(MaxPeers))
        {
            if (XenVmcPaths.TryParseDomid(child, out ushort peer) && await context.TryReadAsync(root + "/" + child, ct).ConfigureAwait(false) is { } reason)
            {
                string text = new([.. reason.Take(MaxReason).Select(c => char.IsControl(c) ? '?' : c)]);
                held.Add(new Status.HeldPeer(peer, text));
            }
        }

        return [.. held.OrderBy(h => h.Domid)];
    }

    /// <summary>The networks Dom0 grants us (<c>self/ip</c>); none when absent or refused (then nothing of ours enters the bypass).</summary>
    public static async Task<IReadOnlyList<IpPrefix>> ReadSelfAsync(GuestContext context, CancellationToken ct)
    {
        string path = XenVmcPaths.SelfAddresses(context.Domid);
        string? ip = await context.TryReadAsync(path, ct).ConfigureAwait(false);
        if (ip is null)
        {
            return [];
        }

        if (!PeerTableEntry.TryParseAddresses(ip, out var grant, out string? error))
        {
            context.Log.PeerEntryRejected(path, error ?? "bad addresses");
            return [];
        }

        return grant;
    }

    private const int MaxReason = 256;
}
