using XenVmc.Platform.Firewall;

namespace XenVmc.Guest.Firewall;

/// <summary>
/// Whether the guest's own nftables rules would miss traffic that arrives through the bypass:
/// rules that match on the uplink's name (<c>iifname "eth0"</c>, <c>oifname</c>, <c>iif</c>,
/// <c>oif</c>) do not see packets on vmc0. Each rule that names the uplink and not the bypass
/// needs a counterpart that names the bypass alone; when there are fewer of those, we say so.
/// </summary>
internal static class GuestFirewall
{
    public const string Uplink = "eth0";

    /// <summary>A one-line warning naming the first rule on the uplink alone and how many there are, or null when the bypass has as many rules of its own.</summary>
    public static string? Warning(NftRuleset ruleset, string bypass, string uplink = Uplink)
    {
        var missed = ruleset.Rules.Where(r => Names(r, uplink) && !Names(r, bypass)).ToList();
        int counterparts = ruleset.Rules.Count(r => Names(r, bypass) && !Names(r, uplink));
        return missed.Count <= counterparts ? null
            : $"{missed.Count} nft rules name {uplink} and not {bypass} ({counterparts} name {bypass} alone), e.g. '{missed[0].Text}': packets from co-resident guests arrive on {bypass} and meet none of them; name both (iifname {{ \"{uplink}\", \"{bypass}\" }}) or match on addresses";
    }

    private static bool Names(NftRule rule, string device) =>
        rule.Expressions.OfType<NftMatch>().Any(m =>
            m.Left.Kind == "meta" && m.Left.Key is "iifname" or "oifname" or "iif" or "oif" && m.Op is "==" or "in" &&
            m.Right.Items is { } items && items.Any(i => i.MatchesName(device)));
}
