using XenVmc.Packets;
using XenVmc.Platform.Layout;

namespace XenVmc.Guest.DataPath;

/// <summary>
/// Networks (host addresses and prefixes) mapped to an owner, looked up by longest-prefix match:
/// the one table that both routes our packets to a peer and admits a peer's sources (as
/// WireGuard's allowed IPs). Immutable once built; lookups allocate nothing.
/// </summary>
internal sealed class PrefixTable<T>
    where T : class
{
    private readonly Dictionary<IpKey, T> _hosts;

    /// <summary>Prefixes shorter than a host, longest first, so the first match is the longest.</summary>
    private readonly (IpKey Network, int MappedLength, T Owner)[] _networks;

    public PrefixTable(IEnumerable<(IpPrefix Prefix, T Owner)> entries)
    {
        var list = entries.ToList();
        _hosts = [];
        var networks = new List<(IpKey, int, T)>();
        foreach (var (prefix, owner) in list)
        {
            var key = IpKey.FromIPAddress(prefix.Address);
            if (prefix.IsHost)
            {
                _hosts[key] = owner;
            }
            else
            {
                networks.Add((key, MappedLength(prefix), owner));
            }
        }

        _networks = [.. networks.OrderByDescending(n => n.Item2)];
        Entries = list;
    }

    public static PrefixTable<T> Empty { get; } = new([]);

    /// <summary>What the table was built from, in order.</summary>
    public IReadOnlyList<(IpPrefix Prefix, T Owner)> Entries { get; }

    public IEnumerable<T> Owners => Entries.Select(e => e.Owner).Distinct();

    public bool IsEmpty => Entries.Count == 0;

    /// <summary>The owner of the longest network holding <paramref name="address"/>, or null.</summary>
    public T? Lookup(IpKey address)
    {
        if (_hosts.TryGetValue(address, out var host))
        {
            return host;
        }

        foreach (var (network, length, owner) in _networks)
        {
            if (address.HasPrefix(network, length))
            {
                return owner;
            }
        }

        return null;
    }

    /// <summary>An IPv4 prefix's length in the 128-bit mapped form that <see cref="IpKey"/> keys use.</summary>
    private static int MappedLength(IpPrefix prefix) =>
        prefix.Family == System.Net.Sockets.AddressFamily.InterNetwork ? 96 + prefix.Length : prefix.Length;
}
