using XenVmc.Platform.Layout;

namespace XenVmc.Dom0;

/// <summary>
/// The operator's pairing policy from <c>dom0.json</c>'s <c>Pairing</c> section. A guest is named by
/// its domain name (<c>/local/domain/N/name</c>, written by the toolstack) or its domid. Every rule
/// only narrows the default: two guests pair only when they have vifs on a shared bridge, so a
/// policy can never connect networks Dom0 keeps apart.
/// </summary>
public sealed record PairingRules
{
    public const string SameBridge = "same-bridge";
    public const string Groups = "groups";

    public static PairingRules Default { get; } = new();

    /// <summary><see cref="SameBridge"/>: any two guests on a shared bridge; <see cref="Groups"/>: only those also in a common group.</summary>
    public string Mode { get; init; } = SameBridge;

    /// <summary>Group name → members. Used when <see cref="Mode"/> is <see cref="Groups"/>.</summary>
    public IReadOnlyDictionary<string, IReadOnlySet<string>> GroupMembers { get; init; } = new Dictionary<string, IReadOnlySet<string>>();

    /// <summary>Guests that never pair with anyone.</summary>
    public IReadOnlySet<string> Deny { get; init; } = new HashSet<string>();

    /// <summary>Pairs that never pair with each other, in either order.</summary>
    public IReadOnlyList<(string A, string B)> DenyPairs { get; init; } = [];

    /// <summary>When not empty, only vifs on these bridges count as shared.</summary>
    public IReadOnlySet<string> Bridges { get; init; } = new HashSet<string>();

    /// <summary>Groups whose members pair even when Dom0's packet filter may concern their traffic (the operator's explicit opt-out).</summary>
    public IReadOnlySet<string> IgnoreFilters { get; init; } = new HashSet<string>();

    internal bool IgnoresFilters(GuestInfo a, GuestInfo b) =>
        IgnoreFilters.Any(g => GroupMembers.TryGetValue(g, out var members) && IsAny(a, members) && IsAny(b, members));

    /// <summary>Guest (domain name or domid) → networks routed behind it that Dom0 grants besides its vifs' <c>ip</c> keys.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<IpPrefix>> Prefixes { get; init; } = new Dictionary<string, IReadOnlyList<IpPrefix>>();

    internal IEnumerable<IpPrefix> PrefixesOf(GuestInfo guest) =>
        Prefixes.Where(p => Is(guest, p.Key)).SelectMany(p => p.Value);

    internal bool BridgeAllowed(string bridge) => Bridges.Count == 0 || Bridges.Contains(bridge);

    internal bool Allows(GuestInfo a, GuestInfo b)
    {
        if (IsAny(a, Deny) || IsAny(b, Deny))
        {
            return false;
        }

        foreach (var (x, y) in DenyPairs)
        {
            if ((Is(a, x) && Is(b, y)) || (Is(a, y) && Is(b, x)))
            {
                return false;
            }
        }

        return Mode != Groups || GroupMembers.Values.Any(members => IsAny(a, members) && IsAny(b, members));
    }

    private static bool IsAny(GuestInfo guest, IReadOnlySet<string> names) =>
        names.Contains(guest.DomidText) || (guest.Name.Length > 0 && names.Contains(guest.Name));

    private static bool Is(GuestInfo guest, string name) =>
        name == guest.DomidText || (guest.Name.Length > 0 && name == guest.Name);
}
