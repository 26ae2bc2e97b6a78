using System.Net;
using System.Net.Sockets;
using System.Text;

namespace XenVmc.Linux;

/// <summary>A unicast route: destination/prefix via an output interface, as "ip route" shows it.</summary>
/// <param name="Protocol">rtm_protocol: 4 = static; the daemon tags its routes with its own number.</param>
/// <param name="Metric">RTA_PRIORITY; IPv6 turns 0 into 1024. On delete, 0 matches any metric.</param>
/// <param name="Table">254 = main.</param>
public sealed record RouteSpec(
    IPAddress Destination,
    int PrefixLength,
    int OutputIfIndex,
    IPAddress? PreferredSource = null,
    byte Protocol = 4,
    uint Metric = 0,
    uint Table = 254,
    IPAddress? Gateway = null)
{
    public AddressFamily Family => Destination.AddressFamily;

    /// <summary>iproute2-like text, used in error messages: "198.18.0.2/32 dev #5 src 198.18.0.1 proto 86 table 254".</summary>
    public override string ToString()
    {
        var text = new StringBuilder($"{Destination}/{PrefixLength}");
        if (Gateway is not null)
        {
            text.Append($" via {Gateway}");
        }

        text.Append($" dev #{OutputIfIndex}");
        if (PreferredSource is not null)
        {
            text.Append($" src {PreferredSource}");
        }

        text.Append($" proto {Protocol}");
        if (Metric != 0)
        {
            text.Append($" metric {Metric}");
        }

        return text.Append($" table {Table}").ToString();
    }

    internal void Validate()
    {
        AddressFamily family = Destination.AddressFamily;
        int maxPrefix = family switch
        {
            AddressFamily.InterNetwork => 32,
            AddressFamily.InterNetworkV6 => 128,
            _ => throw new ArgumentException($"route {this}: destination must be IPv4 or IPv6"),
        };
        if (PrefixLength < 0 || PrefixLength > maxPrefix)
        {
            throw new ArgumentException($"route {this}: prefix length must be 0..{maxPrefix}");
        }

        if (OutputIfIndex < 0)
        {
            throw new ArgumentException($"route {this}: interface index must not be negative");
        }

        if ((PreferredSource is not null && PreferredSource.AddressFamily != family)
            || (Gateway is not null && Gateway.AddressFamily != family))
        {
            throw new ArgumentException($"route {this}: source and gateway must be of the destination's family");
        }
    }
}
