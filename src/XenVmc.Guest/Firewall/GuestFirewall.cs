using XenVmc.Platform.Firewall;

namespace XenVmc.Guest.Firewall;

/// <summary>
/// Whether the guest's own nftables rules would miss traffic that arrives through the bypass:
/// a rule that matches on the uplink's name (<c>iifname "eth0"</c>, <c>oifname</c>, <c>iif</c>,
/// <c>oif</c>) without naming the bypass interface too does not see packets on vmc0.
/// </summary>
internal static class GuestFirewall
{
    public const string Uplink = "eth0";

    /// <summary>A one-line warning naming the first such rule and how many there are, or null when every rule that names the uplink names the bypass too.</summary>
    public static string? Warning(NftRuleset ruleset, string bypass, string uplink = Uplink)
    {
        var missed = ruleset.Rules.Where(r => Names(r, uplink) && !Names(r, bypass)).ToList();
        return missed.Count == 0 ? null
            : $"{missed.Count} nft rules name {uplink} and not {bypass}, e.g. '{missed[0].Text}': packets from co-resident guests arrive on {bypass} and meet none of them; name both (iifname {{ \"{uplink}\", \"{bypass}\" }}) or match on addresses";
    }

    private static bool Names(NftRule rule, string device) =>
        rule.Expressions.OfType<NftMatch>().Any(m =>
            m.Left.Kind == "meta" && m.Left.Key is "iifname" or "oifname" or "iif" or "oif" && m.Op is "==" or "in" &&
            m.Right.Items is { } items && items.Any(i => i.MatchesName(device)));
}
