using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace XenVmc.Packets;

/// <summary>
/// The Internet checksum (RFC 1071): the 16-bit one's-complement of the one's-complement sum of
/// the data taken as big-endian 16-bit words.
/// </summary>
/// <remarks>
/// A "sum" here is a folded, non-inverted 16-bit one's-complement sum in network order; a
/// "checksum" is its complement, the value stored in a header field. Sums can be chained
/// (<c>Sum(b, Sum(a))</c>) as long as every span but the last has an even length, because an
/// odd trailing byte is taken as the high byte of a word padded with zero.
/// The sum is computed in host order over 32-bit words and swapped once at the end, which
/// RFC 1071 §2(B) shows to be equivalent.
/// </remarks>
public static class Checksum
{
    /// <summary>Adds <paramref name="data"/> to <paramref name="initial"/>; returns the folded sum.</summary>
    public static ushort Sum(ReadOnlySpan<byte> data, ushort initial = 0)
    {
        ulong sum = ToHostOrderWord(initial);
        ref byte start = ref MemoryMarshal.GetReference(data);
        int length = data.Length;
        int i = 0;

        for (; i + 16 <= length; i += 16)
        {
            sum += (ulong)Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref start, i))
                + Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref start, i + 4))
                + Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref start, i + 8))
                + Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref start, i + 12));
        }

        for (; i + 4 <= length; i += 4)
        {
            sum += Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref start, i));
        }

        if (i + 2 <= length)
        {
            sum += Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref start, i));
            i += 2;
        }

        if (i < length)
        {
            // The odd byte is the high (first) byte of a zero-padded word.
            byte last = Unsafe.Add(ref start, i);
            sum += BitConverter.IsLittleEndian ? last : (uint)last << 8;
        }

        return ToHostOrderWord(Fold(sum));
    }

    /// <summary>One's-complement addition of two folded sums.</summary>
    public static ushort Add(ushort a, ushort b) => Fold((ulong)a + b);

    /// <summary>Folds a wide accumulator of 16-bit words into a 16-bit one's-complement sum.</summary>
    public static ushort Fold(ulong sum)
    {
        sum = (sum & 0xFFFF_FFFF) + (sum >> 32);
        sum = (sum & 0xFFFF_FFFF) + (sum >> 32);
        sum = (sum & 0xFFFF) + (sum >> 16);
        sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)sum;
    }

    /// <summary>The value to store in a checksum field, given the sum of everything it covers.</summary>
    public static ushort Finish(ushort sum) => (ushort)~sum;

    /// <summary>The checksum of <paramref name="data"/> (with its checksum field zeroed) after <paramref name="initial"/>.</summary>
    public static ushort Compute(ReadOnlySpan<byte> data, ushort initial = 0) => Finish(Sum(data, initial));

    /// <summary>
    /// True when <paramref name="data"/>, checksum field included, sums with <paramref name="initial"/>
    /// to negative zero (0xFFFF), i.e. the stored checksum is right.
    /// </summary>
    public static bool Verify(ReadOnlySpan<byte> data, ushort initial = 0) => Sum(data, initial) == 0xFFFF;

    /// <summary>Sum of the IPv4 pseudo-header (RFC 793 §3.1, RFC 768): addresses, zero, protocol, L4 length.</summary>
    public static ushort PseudoHeaderSumV4(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, byte protocol, ushort length)
    {
        if (source.Length != 4 || destination.Length != 4)
        {
            throw new ArgumentException("IPv4 addresses are 4 bytes.");
        }

        ushort sum = Sum(destination, Sum(source));
        return Fold((ulong)sum + protocol + length);
    }

    /// <summary>Sum of the IPv6 pseudo-header (RFC 8200 §8.1): addresses, 32-bit L4 length, zeros, next header.</summary>
    public static ushort PseudoHeaderSumV6(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, byte protocol, uint length)
    {
        if (source.Length != 16 || destination.Length != 16)
        {
            throw new ArgumentException("IPv6 addresses are 16 bytes.");
        }

        ushort sum = Sum(destination, Sum(source));
        return Fold((ulong)sum + (length >> 16) + (length & 0xFFFF) + protocol);
    }

    private static ushort ToHostOrderWord(ushort networkOrder) =>
        BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(networkOrder) : networkOrder;
}
