using System.Net;
using System.Net.Sockets;
using XenVmc.Platform.Firewall;

namespace XenVmc.Dom0;

/// <summary>
/// Whether any of Dom0's filter rules can concern traffic between two guests. Pure: it takes the
/// model and the two ends, and names the first rule that may filter between them, or null.
/// </summary>
/// <remarks>
/// Design: the bypass carries exactly the packets from one guest's addresses to the other's, so a
/// rule is irrelevant only when it provably cannot see or cannot match any of them; everything else
/// counts. Bridged guest-to-guest traffic passes the bridge family's prerouting, forward and
/// postrouting hooks, netdev ingress/egress on the vifs, and — only when the bridge-nf-call sysctls
/// are on — the ip/ip6/inet prerouting, forward and postrouting hooks (arp with arptables). In a
/// relevant base chain, policy drop counts as filtering; a rule counts when all its matches may
/// match and it reaches drop, reject, queue or any statement we do not know to be harmless; jumps
/// and gotos are followed. A match provably fails only on ip/ip6 saddr/daddr (the guests'
/// addresses), iifname/oifname/iif/oif (their vifs and the bridge) and ibrname/obrname (the bridge)
/// against literal values or a named set whose contents the listing shows; any other match may match.
/// Accept verdicts are not trusted to shield later rules (another base chain still runs after them).
/// </remarks>
internal static class Dom0FilterAnalysis
{
    private const int MaxDepth = 16;

    public static string? Find(Dom0FilterView view, PairEnd a, PairEnd b, IReadOnlyCollection<string> bridges)
    {
        if (view.Unanalysed.Count > 0)
        {
            return view.Unanalysed[0];
        }

        if (bridges.FirstOrDefault(view.OvsBridges.Contains) is { } ovs)
        {
            return $"Open vSwitch bridge {ovs} (its flows are not analysed)";
        }

        var interfaces = a.Interfaces.Concat(b.Interfaces).Concat(bridges).Distinct().ToList();
        foreach (var chain in view.Nft.Chains.Where(c => c.IsBase && SeesBridgedTraffic(c, view.BridgeNf, interfaces)))
        {
            if (chain.Policy == "drop")
            {
                return $"nft chain {chain.Label}: policy drop";
            }

            foreach (var (from, to) in new[] { (a, b), (b, a) })
            {
                var traffic = new Traffic(from, to, interfaces, bridges);
                if (Walk(view.Nft, chain, traffic, 0) is { } rule)
                {
                    return "nft rule " + rule;
                }
            }
        }

        return null;
    }

    /// <summary>Whether a base chain's hook sees packets bridged from one vif to another.</summary>
    internal static bool SeesBridgedTraffic(NftChain chain, BridgeNetfilter brnf, IReadOnlyCollection<string> interfaces)
    {
        bool localOnly = chain.Hook is "input" or "output";
        bool ingressOrEgress = chain.Hook is "ingress" or "egress";
        bool onOurDevices = chain.Devices.Count == 0 || chain.Devices.Any(d => d.Length == 0 || interfaces.Contains(d));
        return chain.Family switch
        {
            "bridge" => !localOnly,
            "netdev" => onOurDevices,
            "ip" => brnf.CallIptables && !localOnly && !ingressOrEgress,
            "ip6" => brnf.CallIp6tables && !localOnly && !ingressOrEgress,
            "inet" => ingressOrEgress ? onOurDevices : (brnf.CallIptables || brnf.CallIp6tables) && !localOnly,
            "arp" => brnf.CallArptables,
            _ => true,
        };
    }

    /// <summary>The first rule reachable from <paramref name="chain"/> that may filter <paramref name="traffic"/>, as text.</summary>
    private static string? Walk(NftRuleset ruleset, NftChain chain, Traffic traffic, int depth)
    {
        if (depth > MaxDepth)
        {
            return $"{chain.Label}: jumps nested deeper than {MaxDepth}";
        }

        foreach (var rule in chain.Rules)
        {
            foreach (var expression in rule.Expressions)
            {
                if (expression is NftMatch match)
                {
                    if (!MayMatch(ruleset, rule, match, traffic))
                    {
                        break;
                    }

                    continue;
                }

                if (expression is NftStatement statement)
                {
                    if (!statement.IsHarmless)
                    {
                        return rule.Text;
                    }

                    continue;
                }

                var verdict = (NftVerdict)expression;
                if (verdict.Filters)
                {
                    return rule.Text;
                }

                if (verdict.Kind is "jump" or "goto")
                {
                    var target = verdict.Target is null ? null : ruleset.FindChain(rule.Family, rule.Table, verdict.Target);
                    if (target is null)
                    {
                        return rule.Text + " (its target is not in the listing)";
                    }

                    if (Walk(ruleset, target, traffic, depth + 1) is { } found)
                    {
                        return found;
                    }
                }

                break;
            }
        }

        return null;
    }

    private static bool MayMatch(NftRuleset ruleset, NftRule rule, NftMatch match, Traffic traffic)
    {
        IReadOnlyList<NftItem>? items = match.Right.SetName is { } setName
            ? ruleset.FindSet(rule.Family, rule.Table, setName)?.Elements
            : match.Right.Items;
        if (items is null || match.Op is not ("==" or "!=" or "in"))
        {
            return true;
        }

        var left = match.Left;
        if (left.Kind == "payload" && left.Protocol is "ip" or "ip6" && left.Key is "saddr" or "daddr")
        {
            var family = left.Protocol == "ip" ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
            var end = left.Key == "saddr" ? traffic.From : traffic.To;
            if (items.Any(i => !IPAddress.TryParse(i.Value, out _)))
            {
                return true; // not an address we can compare: it may be any
            }

            // "!=" may match unless one item covers the whole network (a set whose union covers
            // it still counts as "may match": conservative).
            var candidates = end.Networks.Where(x => x.Family == family).ToList();
            return match.Op == "!="
                ? candidates.Any(x => !items.Any(i => i.Covers(x)))
                : candidates.Any(x => items.Any(i => i.Overlaps(x)));
        }

        IReadOnlyCollection<string>? names = left.Kind == "meta" ? left.Key switch
        {
            "iifname" or "oifname" or "iif" or "oif" => traffic.Interfaces,
            "ibrname" or "obrname" => traffic.Bridges,
            _ => null,
        } : null;
        if (names is null || items.Any(i => i.Value.Length == 0 || i.Value.All(char.IsAsciiDigit)))
        {
            return true;
        }

        return match.Op == "!="
            ? names.Any(n => !items.Any(i => i.MatchesName(n)))
            : names.Any(n => items.Any(i => i.MatchesName(n)));
    }

    private sealed record Traffic(PairEnd From, PairEnd To, IReadOnlyCollection<string> Interfaces, IReadOnlyCollection<string> Bridges);
}
