using XenVmc.Platform.Layout;

namespace XenVmc.Dom0;

/// <summary>
/// Who may pair with whom. The default pairs two guests only when they have vifs on the same
/// bridge: bypassing Dom0 must never connect networks Dom0 keeps apart.
/// </summary>
internal static class PairingPolicy
{
    /// <summary>The peer table every guest should see: for each guest, its peers with the addresses of their vifs on a shared bridge.</summary>
    public static Dictionary<ushort, Dictionary<ushort, PeerTableEntry>> Compute(IReadOnlyCollection<GuestInfo> guests, PairingRules? rules = null) =>
        Compute(guests, rules ?? PairingRules.Default, Grants.Compute(guests.Where(g => g.Introduced), rules ?? PairingRules.Default));

    /// <summary>As above, with the grants already computed (Dom0 also publishes them as each guest's own entry).</summary>
    public static Dictionary<ushort, Dictionary<ushort, PeerTableEntry>> Compute(IReadOnlyCollection<GuestInfo> guests, PairingRules rules, Grants grants)
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

                var addresses = grants.Of(other.Domid, shared);
                if (addresses.Count > 0)
                {
                    table[other.Domid] = new PeerTableEntry(other.Domid, addresses, shared[0].Mac);
                }
            }
        }

        return tables;
    }
}
