using XenVmc.Platform.Firewall;
using XenVmc.Platform.Layout;

namespace XenVmc.Dom0;

/// <summary>What Dom0's own packet filters look like at one moment: the model <see cref="Dom0FilterAnalysis"/> judges pairs by.</summary>
/// <param name="Nft">nftables' rule set (iptables-nft rules included); empty when nft is not installed.</param>
/// <param name="BridgeNf">Which <c>bridge-nf-call-*</c> sysctls are on: they decide whether ip/ip6/inet/arp chains see bridged traffic.</param>
/// <param name="Unanalysed">Filters we found but do not analyse (legacy tools' rules, a listing that failed): each holds every pair.</param>
/// <param name="OvsBridges">Bridges Open vSwitch carries: pairs on them are held, their flows are not analysed.</param>
internal sealed record Dom0FilterView(NftRuleset Nft, BridgeNetfilter BridgeNf, IReadOnlyList<string> Unanalysed, IReadOnlySet<string> OvsBridges)
{
    public static Dom0FilterView None { get; } = new(NftRuleset.Empty, default, [], new HashSet<string>());
}

/// <summary>The <c>net.bridge.bridge-nf-call-*</c> sysctls (all off when br_netfilter is not loaded).</summary>
internal readonly record struct BridgeNetfilter(bool CallIptables, bool CallIp6tables, bool CallArptables);

/// <summary>One guest's end of a pair: its granted networks (what the bypass would carry) and its vif device names in Dom0.</summary>
internal sealed record PairEnd(IReadOnlyList<IpPrefix> Networks, IReadOnlyList<string> Interfaces);
