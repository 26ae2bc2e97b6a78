using System.Buffers.Binary;
using System.Net;

namespace XenVmc.Linux.Tests;

/// <summary>Builds well-formed IPv4/UDP packets with correct checksums, for writing into a TUN.</summary>
internal static class TestPackets
{
    public const int Ipv4HeaderLength = 20;
    public const int UdpHeaderLength = 8;

    /// <summary>IPv4 header (no options) + UDP header, for a payload of <paramref name="payloadLength"/> bytes.</summary>
    public static byte[] Ipv4UdpHeaders(IPEndPoint source, IPEndPoint destination, ReadOnlySpan<byte> payload)
    {
        var headers = new byte[Ipv4HeaderLength + UdpHeaderLength];
        Span<byte> ip = headers.AsSpan(0, Ipv4HeaderLength);
        ip[0] = 0x45; // version 4, IHL 5
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(headers.Length + payload.Length));
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], 0x1234); // identification
        BinaryPrimitives.WriteUInt16BigEndian(ip[6..], 0x4000); // DF
        ip[8] = 64; // TTL
        ip[9] = 17; // UDP
        source.Address.TryWriteBytes(ip[12..16], out _);
        destination.Address.TryWriteBytes(ip[16..20], out _);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Fold(Sum(ip, 0)));

        Span<byte> udp = headers.AsSpan(Ipv4HeaderLength);
        ushort udpLength = (ushort)(UdpHeaderLength + payload.Length);
        BinaryPrimitives.WriteUInt16BigEndian(udp, (ushort)source.Port);
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], (ushort)destination.Port);
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], udpLength);
        uint sum = Sum(ip[12..20], 17u + udpLength); // pseudo-header: addresses, protocol, UDP length
        sum = Sum(udp, sum);
        sum = Sum(payload, sum);
        ushort checksum = Fold(sum);
        BinaryPrimitives.WriteUInt16BigEndian(udp[6..], checksum == 0 ? (ushort)0xFFFF : checksum);
        return headers;
    }

    public static byte[] Ipv4Udp(IPEndPoint source, IPEndPoint destination, ReadOnlySpan<byte> payload) =>
        [.. Ipv4UdpHeaders(source, destination, payload), .. payload];

    /// <summary>One's-complement sum of 16-bit big-endian words (RFC 1071).</summary>
    public static uint Sum(ReadOnlySpan<byte> data, uint sum)
    {
        int i = 0;
        for (; i + 1 < data.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        }

        if (i < data.Length)
        {
            sum += (uint)data[i] << 8;
        }

        return sum;
    }

    public static ushort Fold(uint sum)
    {
        while (sum > 0xFFFF)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        return (ushort)~sum;
    }
}
