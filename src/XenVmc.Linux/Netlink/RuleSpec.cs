using System.Net;
using System.Net.Sockets;

namespace XenVmc.Linux;

/// <summary>
/// A policy-routing rule "from Source/SourceLength [iif InputInterface] lookup Table", as
/// <c>ip rule</c> shows it.
/// </summary>
/// <param name="InputInterface">FRA_IIFNAME; "lo" matches locally originated packets.</param>
/// <param name="Protocol">FRA_PROTOCOL: the daemon tags its rules with its own number, as its routes.</param>
/// <param name="FindSource">
/// FIB_RULE_FIND_SADDR (IPv6 only): the rule also matches a lookup that has no source yet (an
/// unbound socket); the kernel then picks the source the route's device would use and keeps the
/// rule only when that source lies inside <see cref="Source"/>/<see cref="SourceLength"/>.
/// </param>
public sealed record RuleSpec(IPAddress Source, int SourceLength, uint Table, uint Priority, byte Protocol, string? InputInterface = null, bool FindSource = false)
{
    public AddressFamily Family => Source.AddressFamily;

    /// <summary>iproute2-like text: "from 198.18.0.1/32 iif lo lookup 86 pref 9086 proto 86".</summary>
    public override string ToString() =>
        $"from {Source}/{SourceLength}{(InputInterface is null ? "" : " iif " + InputInterface)} lookup {Table} pref {Priority} proto {Protocol}{(FindSource ? " find-saddr" : "")}";

    internal void Validate()
    {
        int max = Family switch
        {
            AddressFamily.InterNetwork => 32,
            AddressFamily.InterNetworkV6 => 128,
            _ => throw new ArgumentException($"rule {this}: source must be IPv4 or IPv6"),
        };
        if (SourceLength < 0 || SourceLength > max || InputInterface is { Length: 0 or > 15 })
        {
            throw new ArgumentException($"rule {this}: source length must be 0..{max} and an interface name 1-15 characters");
        }
    }
}
