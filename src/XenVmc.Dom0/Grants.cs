using XenVmc.Platform.Layout;

namespace XenVmc.Dom0;

/// <summary>
/// Which networks each guest may originate and be reached at through the bypass: the vif
/// backends' <c>ip</c> keys (the toolstack's statement; Xen's vif-route installs each entry, a
/// prefix included, as a route) plus the prefixes Dom0's configuration names for the guest.
/// Never what a guest claims about itself.
/// </summary>
/// <remarks>
/// Overlap rule: a more specific prefix wins at the guests (longest-prefix match), so nested
/// grants to different guests are published as they are. The same network granted to two guests
/// (a host address or a prefix, equal in address and length) is ambiguous: Dom0 publishes it to
/// neither and says why in <see cref="Conflicts"/>, and both keep whatever else they are granted.
/// </remarks>
internal sealed class Grants
{
    private readonly Dictionary<ushort, List<IpPrefix>> _byGuest = [];
    private readonly Dictionary<ushort, HashSet<IpPrefix>> _configured = [];

    private Grants()
    {
    }

    /// <summary>One line per network withheld, naming it and the guests that both claim it; empty when none.</summary>
    public IReadOnlyList<string> Conflicts { get; private set; } = [];

    /// <summary>The networks of <paramref name="guest"/> that are granted, from the vifs that count and from configuration.</summary>
    public IReadOnlyList<IpPrefix> Of(ushort guest, IEnumerable<VifBackend> vifs)
    {
        if (!_byGuest.TryGetValue(guest, out var granted))
        {
            return [];
        }

        var fromVifs = vifs.SelectMany(v => v.Addresses).ToHashSet();
        var configured = _configured.TryGetValue(guest, out var c) ? c : [];
        return [.. granted.Where(p => fromVifs.Contains(p) || configured.Contains(p)).Take(PeerTableEntry.MaxAddresses)];
    }

    /// <summary>Everything granted to <paramref name="guest"/>: what its own <c>self/ip</c> says.</summary>
    public IReadOnlyList<IpPrefix> All(ushort guest) =>
        _byGuest.TryGetValue(guest, out var granted) ? [.. granted.Take(PeerTableEntry.MaxAddresses)] : [];

    /// <summary>Collects every guest's networks (online vifs on allowed bridges, then configuration) and withholds the ambiguous ones.</summary>
    public static Grants Compute(IEnumerable<GuestInfo> guests, PairingRules rules)
    {
        var grants = new Grants();
        var owners = new Dictionary<IpPrefix, SortedSet<ushort>>();
        foreach (var guest in guests)
        {
            var vifs = guest.Vifs.Where(v => v.Online && v.Addresses.Count > 0 && v.Bridge.Length > 0 && rules.BridgeAllowed(v.Bridge)).ToList();
            if (vifs.Count == 0)
            {
                continue;
            }

            var configured = rules.PrefixesOf(guest).ToHashSet();
            grants._configured[guest.Domid] = configured;
            var list = vifs.SelectMany(v => v.Addresses).Concat(configured).Distinct().ToList();
            grants._byGuest[guest.Domid] = list;
            foreach (var prefix in list)
            {
                if (!owners.TryGetValue(prefix, out var set))
                {
                    owners[prefix] = set = [];
                }

                set.Add(guest.Domid);
            }
        }

        var conflicts = new List<string>();
        foreach (var (prefix, set) in owners.Where(o => o.Value.Count > 1).OrderBy(o => o.Key.ToString(), StringComparer.Ordinal))
        {
            conflicts.Add($"{prefix} is granted to domains {string.Join(", ", set)}: published to none of them");
            foreach (ushort domid in set)
            {
                grants._byGuest[domid].Remove(prefix);
            }
        }

        grants.Conflicts = conflicts;
        return grants;
    }
}
