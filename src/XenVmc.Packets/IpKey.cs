using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace XenVmc.Packets;

/// <summary>
/// An IPv4 or IPv6 address as a 16-byte value, for dictionary lookups on the per-packet path
/// without allocating an <see cref="IPAddress"/>. IPv4 addresses are stored as IPv4-mapped IPv6
/// addresses (<c>::ffff:a.b.c.d</c>, RFC 4291 §2.5.5.2), so an IPv4 address and its mapped IPv6
/// form are the same key.
/// </summary>
public readonly struct IpKey : IEquatable<IpKey>
{
    public const int Size = 16;

    // Network byte order: _high holds bytes 0..7, _low bytes 8..15.
    private readonly ulong _high;
    private readonly ulong _low;

    private const ulong MappedPrefix = 0x0000_FFFFul << 32;

    private IpKey(ulong high, ulong low)
    {
        _high = high;
        _low = low;
    }

    /// <summary>True for IPv4 addresses (equivalently, IPv4-mapped IPv6 addresses).</summary>
    public bool IsIPv4 => _high == 0 && (_low & 0xFFFF_FFFF_0000_0000ul) == MappedPrefix;

    public static IpKey FromIPv4(ReadOnlySpan<byte> address)
    {
        if (address.Length != 4)
        {
            throw new ArgumentException("An IPv4 address is 4 bytes.", nameof(address));
        }

        return new IpKey(0, MappedPrefix | BinaryPrimitives.ReadUInt32BigEndian(address));
    }

    public static IpKey FromIPv6(ReadOnlySpan<byte> address)
    {
        if (address.Length != Size)
        {
            throw new ArgumentException("An IPv6 address is 16 bytes.", nameof(address));
        }

        return new IpKey(BinaryPrimitives.ReadUInt64BigEndian(address), BinaryPrimitives.ReadUInt64BigEndian(address[8..]));
    }

    /// <summary>Converts an <see cref="IPAddress"/>; an IPv6 scope id is not part of the key.</summary>
    public static IpKey FromIPAddress(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        Span<byte> bytes = stackalloc byte[Size];
        if (!address.TryWriteBytes(bytes, out int written))
        {
            throw new ArgumentException("Unsupported address.", nameof(address));
        }

        return address.AddressFamily switch
        {
            AddressFamily.InterNetwork => FromIPv4(bytes[..written]),
            AddressFamily.InterNetworkV6 => FromIPv6(bytes[..written]),
            _ => throw new ArgumentException($"Unsupported address family {address.AddressFamily}.", nameof(address)),
        };
    }

    /// <summary>Writes the 16-byte (mapped, for IPv4) form of the address.</summary>
    public void WriteBytes(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, _high);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _low);
    }

    /// <summary>An <see cref="AddressFamily.InterNetwork"/> address for IPv4 keys, otherwise IPv6.</summary>
    public IPAddress ToIPAddress()
    {
        if (IsIPv4)
        {
            Span<byte> v4 = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(v4, (uint)_low);
            return new IPAddress(v4);
        }

        Span<byte> v6 = stackalloc byte[Size];
        WriteBytes(v6);
        return new IPAddress(v6);
    }

    /// <summary>
    /// True when the first <paramref name="mappedLength"/> bits (of the 128-bit form; an IPv4
    /// /24 is 96 + 24) equal <paramref name="network"/>'s. Allocates nothing.
    /// </summary>
    public bool HasPrefix(IpKey network, int mappedLength)
    {
        ulong highMask = mappedLength >= 64 ? ulong.MaxValue : mappedLength <= 0 ? 0 : ulong.MaxValue << (64 - mappedLength);
        ulong lowMask = mappedLength >= 128 ? ulong.MaxValue : mappedLength <= 64 ? 0 : ulong.MaxValue << (128 - mappedLength);
        return ((_high ^ network._high) & highMask) == 0 && ((_low ^ network._low) & lowMask) == 0;
    }

    public bool Equals(IpKey other) => _high == other._high && _low == other._low;

    public override bool Equals(object? obj) => obj is IpKey other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_high, _low);

    public override string ToString() => ToIPAddress().ToString();

    public static bool operator ==(IpKey left, IpKey right) => left.Equals(right);

    public static bool operator !=(IpKey left, IpKey right) => !left.Equals(right);
}
