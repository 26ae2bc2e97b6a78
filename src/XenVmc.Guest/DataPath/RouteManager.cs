using System.Net;
using System.Net.Sockets;
using XenVmc.Linux;
using XenVmc.Platform.Layout;

namespace XenVmc.Guest.DataPath;

/// <summary>
/// Routes to peers' networks through the TUN, in a routing table of our own that only our own
/// granted sources consult, all tagged with our routing-protocol number so a restarted daemon can
/// find and flush what it left behind (<c>ip route show table all proto 86</c>, <c>ip rule show</c>).
/// </summary>
/// <remarks>
/// Only what a peer admits may enter vmc0: its packets must carry a source Dom0 granted us
/// (<c>self/ip</c>). So the peer routes live in table <see cref="Table"/> (number = protocol), and
/// the rules "from &lt;granted network&gt; lookup 86" lead there; forwarded packets and packets from
/// addresses Dom0 does not grant us (a VIP) never match and take the main table, as before XenVMC.
/// A socket that is not bound looks its route up without a source, which a "from" rule does not
/// match. IPv4: "from 0.0.0.0/32 iif lo" leads such locally originated lookups to table 86 too,
/// and each route names a granted address of ours as its preferred source, so the kernel picks
/// it; that rule exists only while we hold a granted IPv4 address. IPv6 matches a source rule
/// against a lookup without a source only with FIB_RULE_FIND_SADDR, which the IPv6 rules carry:
/// the kernel picks the source it would use and keeps the rule only if that source is granted.
/// TCP's connect looks up twice (without a source, then with the one chosen); both land in 86.
/// </remarks>
internal sealed class RouteManager : IDisposable
{
    /// <summary>Our rules' priority: ahead of the main table's (32766).</summary>
    public const uint RulePriority = 86;

    private readonly RtNetlink _netlink;
    private readonly Lock _lock = new();
    private readonly int _ifIndex;
    private readonly byte _protocol;
    private readonly HashSet<IpPrefix> _installed = [];
    private readonly HashSet<RuleSpec> _rules = [];
    private IReadOnlyList<(int IfIndex, IPAddress Address, int PrefixLength)> _own = [];
    private IReadOnlyList<IpPrefix> _grant = [];

    public RouteManager(RtNetlink netlink, int ifIndex, byte protocol)
    {
        _netlink = netlink;
        _ifIndex = ifIndex;
        _protocol = protocol;
    }

    /// <summary>The routing table of the peer routes: the protocol's number (86 by default).</summary>
    public uint Table => _protocol;

    /// <summary>Flushes every route and rule with our protocol; returns how many went.</summary>
    public int Flush()
    {
        lock (_lock)
        {
            _installed.Clear();
            _rules.Clear();
            return _netlink.FlushRoutes(_protocol) + _netlink.FlushRules(_protocol);
        }
    }

    /// <summary>Our own addresses, on every interface but the TUN: where the preferred sources come from.</summary>
    public IReadOnlyList<IPAddress> RefreshOwnAddresses()
    {
        lock (_lock)
        {
            _own = [.. _netlink.ListAddresses().Where(a => a.IfIndex != _ifIndex && !IPAddress.IsLoopback(a.Address) && !a.Address.IsIPv6LinkLocal)];
            return [.. _own.Select(a => a.Address)];
        }
    }

    /// <summary>
    /// The networks Dom0 grants us: brings the rules to match (new ones before old ones go) and
    /// gives every installed route the preferred source that now fits.
    /// </summary>
    public void SetGrant(IReadOnlyList<IpPrefix> grant)
    {
        lock (_lock)
        {
            _grant = grant;
            var wanted = new HashSet<RuleSpec>();
            foreach (var prefix in grant)
            {
                wanted.Add(new RuleSpec(prefix.Address, prefix.Length, Table, RulePriority, _protocol, FindSource: prefix.Family == AddressFamily.InterNetworkV6));
            }

            if (GrantedSource(AddressFamily.InterNetwork, null) is not null)
            {
                wanted.Add(new RuleSpec(IPAddress.Any, 32, Table, RulePriority, _protocol, "lo"));
            }

            foreach (var rule in wanted.Where(r => !_rules.Contains(r)))
            {
                _netlink.AddRule(rule);
                _rules.Add(rule);
            }

            foreach (var rule in _rules.Where(r => !wanted.Contains(r)).ToList())
            {
                _netlink.DeleteRule(rule);
                _rules.Remove(rule);
            }

            foreach (var prefix in _installed)
            {
                _netlink.ReplaceRoute(Route(prefix));
            }
        }
    }

    public void Install(IEnumerable<IpPrefix> peerNetworks)
    {
        lock (_lock)
        {
            foreach (var prefix in peerNetworks)
            {
                _netlink.ReplaceRoute(Route(prefix));
                _installed.Add(prefix);
            }
        }
    }

    public void Remove(IEnumerable<IpPrefix> peerNetworks)
    {
        lock (_lock)
        {
            foreach (var prefix in peerNetworks)
            {
                _installed.Remove(prefix);
                try
                {
                    _netlink.DeleteRoute(new RouteSpec(prefix.Address, prefix.Length, _ifIndex, null, _protocol, Table: Table));
                }
                catch (LinuxException)
                {
                    // The TUN may already be gone (daemon shutdown): its routes went with it.
                }
            }
        }
    }

    private RouteSpec Route(IpPrefix prefix) =>
        new(prefix.Address, prefix.Length, _ifIndex, GrantedSource(prefix.Family, prefix), _protocol, Table: Table);

    /// <summary>
    /// An address of ours that Dom0 grants: the one on the peer's subnet, else the first of the
    /// family, else none (then no IPv4 "iif lo" rule exists either).
    /// </summary>
    private IPAddress? GrantedSource(AddressFamily family, IpPrefix? peer)
    {
        IPAddress? fallback = null;
        foreach (var (_, address, length) in _own)
        {
            if (address.AddressFamily != family || !_grant.Any(g => g.Contains(address)))
            {
                continue;
            }

            fallback ??= address;
            if (peer is { } p && new IpPrefix(Network(address, length), length).Contains(p.Address))
            {
                return address;
            }
        }

        return fallback;
    }

    private static IPAddress Network(IPAddress address, int length)
    {
        byte[] bytes = address.GetAddressBytes();
        for (int bit = length; bit < bytes.Length * 8; bit++)
        {
            bytes[bit >> 3] &= (byte)~(0x80 >> (bit & 7));
        }

        return new IPAddress(bytes);
    }

    public void Dispose() => _netlink.Dispose();
}
