using XenVmc.Platform.Layout;

namespace XenVmc.Dom0;

/// <summary>
/// Who may pair with whom. The default pairs two guests only when they have vifs on the same
/// bridge: bypassing Dom0 must never connect networks Dom0 keeps apart.
/// </summary>
internal static class PairingPolicy
{
    /// <summary>The peer table every guest should see: for each guest, its peers with the addresses of their vifs on a shared bridge.</summary>
    /// <param name="filter">Dom0's packet filters; a pair they may concern is left out and, when <paramref name="held"/> is given, recorded there with the reason.</param>
    public static Dictionary<ushort, Dictionary<ushort, PeerTableEntry>> Compute(
        IReadOnlyCollection<GuestInfo> guests, PairingRules? rules = null, Dom0FilterView? filter = null, Dictionary<ushort, Dictionary<ushort, string>>? held = null) =>
        Compute(guests, rules ?? PairingRules.Default, Grants.Compute(guests.Where(g => g.Introduced), rules ?? PairingRules.Default), filter, held);

    /// <summary>As above, with the grants already computed (Dom0 also publishes them as each guest's own entry).</summary>
    public static Dictionary<ushort, Dictionary<ushort, PeerTableEntry>> Compute(
        IReadOnlyCollection<GuestInfo> guests, PairingRules rules, Grants grants, Dom0FilterView? filter = null, Dictionary<ushort, Dictionary<ushort, string>>? held = null)
    {
        var tables = new Dictionary<ushort, Dictionary<ushort, PeerTableEntry>>();
        var eligible = guests.Where(g => g.Introduced && g.Ready).ToList();
        foreach (var guest in guests.Where(g => g.Introduced))
        {
            var table = new Dictionary<ushort, PeerTableEntry>();
            tables[guest.Domid] = table;
            if (!guest.Ready)
            {
                continue;
            }

            // Only bridges where Dom0 knows this guest's address count: the same test the peer is
            // held to below, so pairing is always mutual.
            var bridges = guest.Vifs.Where(v => v.Online && v.Addresses.Count > 0).Select(v => v.Bridge).Where(b => b.Length > 0 && rules.BridgeAllowed(b)).ToHashSet();
            foreach (var other in eligible)
            {
                if (other.Domid == guest.Domid || !rules.Allows(guest, other))
                {
                    continue;
                }

                var shared = other.Vifs.Where(v => v.Online && bridges.Contains(v.Bridge) && v.Addresses.Count > 0).ToList();
                if (shared.Count == 0)
                {
                    continue;
                }

                if (filter is not null && !rules.IgnoresFilters(guest, other) && FilteredBetween(filter, grants, guest, shared) is { } reason)
                {
                    if (held is not null)
                    {
                        (held.TryGetValue(guest.Domid, out var mine) ? mine : held[guest.Domid] = [])[other.Domid] = reason;
                    }

                    continue;
                }

                var addresses = grants.Of(other.Domid, shared);
                if (addresses.Count > 0)
                {
                    table[other.Domid] = new PeerTableEntry(other.Domid, addresses, shared[0].Mac);
                }
            }
        }

        return tables;
    }

    /// <summary>
    /// The filter's verdict on the pair over the bridges they share; symmetric, so pairing stays
    /// mutual. Each end is judged by the networks the bypass would carry for it (its grant: vif
    /// addresses and the prefixes routed behind it), since that traffic crosses the bridge today.
    /// </summary>
    private static string? FilteredBetween(Dom0FilterView filter, Grants grants, GuestInfo guest, List<VifBackend> otherShared)
    {
        var bridges = otherShared.Select(v => v.Bridge).ToHashSet(StringComparer.Ordinal);
        var mine = guest.Vifs.Where(v => v.Online && v.Addresses.Count > 0 && bridges.Contains(v.Bridge)).ToList();
        return Dom0FilterAnalysis.Find(filter, End(grants, guest.Domid, mine), End(grants, otherShared[0].Domid, otherShared), bridges);
    }

    private static PairEnd End(Grants grants, ushort domid, List<VifBackend> vifs) =>
        new(grants.Of(domid, vifs), [.. vifs.Select(v => v.Device)]);
}
