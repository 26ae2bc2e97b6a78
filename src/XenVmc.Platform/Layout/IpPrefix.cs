using System.Net;
using System.Net.Sockets;

namespace XenVmc.Platform.Layout;

/// <summary>
/// An IPv4 or IPv6 network as a peer table names it: a host address (<c>/32</c>, <c>/128</c>) or a
/// prefix whose host bits are zero. Text form: the bare address for a host, CIDR otherwise, so a
/// table that names only host addresses reads as it did before prefixes existed.
/// </summary>
public readonly record struct IpPrefix
{
    public IpPrefix(IPAddress address, int length)
    {
        ArgumentNullException.ThrowIfNull(address);
        int max = MaxLength(address.AddressFamily);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, max);
        if (!HostBitsZero(address, length))
        {
            throw new ArgumentException($"{address}/{length} has host bits set", nameof(address));
        }

        Address = address;
        Length = length;
    }

    public IPAddress Address { get; }

    /// <summary>The prefix length in the address family's own bits (0–32 or 0–128).</summary>
    public int Length { get; }

    public bool IsHost => Length == MaxLength(Address.AddressFamily);

    public AddressFamily Family => Address.AddressFamily;

    public static implicit operator IpPrefix(IPAddress address) => Host(address);

    public static IpPrefix Host(IPAddress address) => new(address, MaxLength(address.AddressFamily));

    public static int MaxLength(AddressFamily family) => family == AddressFamily.InterNetwork ? 32 : 128;

    /// <summary>True when <paramref name="address"/> (of the same family) lies inside this network.</summary>
    public bool Contains(IPAddress address) =>
        address.AddressFamily == Family && SamePrefix(Address.GetAddressBytes(), address.GetAddressBytes(), Length);

    /// <summary>True when every address of <paramref name="other"/> lies inside this network.</summary>
    public bool Covers(IpPrefix other) => other.Family == Family && other.Length >= Length && Contains(other.Address);

    public override string ToString() => IsHost ? Address.ToString() : $"{Address}/{Length}";

    internal static bool HostBitsZero(IPAddress address, int length)
    {
        byte[] bytes = address.GetAddressBytes();
        for (int bit = length; bit < bytes.Length * 8; bit++)
        {
            if ((bytes[bit >> 3] & (0x80 >> (bit & 7))) != 0)
            {
                return false;
            }
        }

        return true;
    }

    private static bool SamePrefix(byte[] x, byte[] y, int length)
    {
        for (int bit = 0; bit < length; bit++)
        {
            int mask = 0x80 >> (bit & 7);
            if ((x[bit >> 3] & mask) != (y[bit >> 3] & mask))
            {
                return false;
            }
        }

        return true;
    }
}
