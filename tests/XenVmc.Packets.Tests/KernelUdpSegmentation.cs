using System.Buffers.Binary;
using XenVmc.Packets;
using Xunit;

namespace XenVmc.Packets.Tests;

/// <summary>
/// A model of what the Linux kernel delivers for one write into a TUN with a virtio-net header,
/// for the UDP cases <see cref="UdpCoalescer"/> produces: a plain packet (with a NEEDS_CSUM
/// checksum completed, as <c>skb_checksum_help</c> does), or a UDP_L4 GSO super-packet cut into
/// datagrams as <c>__udp_gso_segment</c> and <c>inet_gso_segment</c>/<c>ipv6_gso_segment</c>
/// do (IP header copied, IPv4 identification first + i, lengths and checksums set per datagram).
/// A write the kernel would refuse (<c>virtio_net_hdr_to_skb</c>, <c>__udp_gso_segment</c>
/// returning EINVAL, <c>ip_rcv</c>/<c>udp_rcv</c> dropping the super-packet) fails the test.
/// </summary>
internal static class KernelUdpSegmentation
{
    /// <summary>Segments per UDP_L4 super-packet the kernel accepts (UDP_MAX_SEGMENTS).</summary>
    public const int MaxSegments = 128;

    /// <summary>The IP packets the kernel delivers for one write of <paramref name="written"/> (virtio-net header first).</summary>
    public static List<byte[]> Write(ReadOnlySpan<byte> written)
    {
        var vnet = written[..VirtioNetHeader.Size];
        var ip = written[VirtioNetHeader.Size..].ToArray();
        VirtioNetHeader.TryCreate(vnet, out var header);
        var flags = header.Flags;
        if (header.GsoType == VirtioNetGsoType.None)
        {
            if ((flags & VirtioNetHeaderFlags.NeedsChecksum) != 0)
            {
                Complete(ip, header.ChecksumStart, header.ChecksumOffset);
            }

            return [ip];
        }

        Assert.Equal(VirtioNetGsoType.UdpL4, header.GsoType);
        Assert.Equal(VirtioNetHeaderFlags.NeedsChecksum, flags);
        Assert.Equal(UdpHeader.ChecksumFieldOffset, header.ChecksumOffset);
        int version = ip[0] >> 4;
        int headerLength = version == 4 ? (ip[0] & 0xF) * 4 : 40;
        Assert.True(version == 4 || ip[6] == IpProtocol.Udp, "IPv6 super-packet without UDP as the next header");
        Assert.Equal(headerLength, header.ChecksumStart);
        Assert.Equal(headerLength + UdpHeader.HeaderLength, header.HeaderLength);
        if (version == 4)
        {
            Assert.Equal(ip.Length, BinaryPrimitives.ReadUInt16BigEndian(ip.AsSpan(2)));
            Assert.True(Checksum.Verify(ip.AsSpan(0, headerLength)), "ip_rcv drops a super-packet whose IPv4 header checksum is wrong");
        }
        else
        {
            Assert.Equal(ip.Length - 40, BinaryPrimitives.ReadUInt16BigEndian(ip.AsSpan(4)));
        }

        Assert.Equal(ip.Length - headerLength, BinaryPrimitives.ReadUInt16BigEndian(ip.AsSpan(headerLength + 4)));
        int gsoSize = header.GsoSize;
        int payload = ip.Length - headerLength - UdpHeader.HeaderLength;
        Assert.True(gsoSize > 0 && payload > gsoSize, $"__udp_gso_segment refuses {payload} bytes at gso_size {gsoSize} (one segment or none)");
        int segments = (payload + gsoSize - 1) / gsoSize;
        Assert.True(segments <= MaxSegments, $"{segments} segments");

        var datagrams = new List<byte[]>(segments);
        ushort id = version == 4 ? BinaryPrimitives.ReadUInt16BigEndian(ip.AsSpan(4)) : (ushort)0;
        for (int i = 0; i < segments; i++)
        {
            int chunk = Math.Min(gsoSize, payload - (i * gsoSize));
            byte[] segment = new byte[headerLength + UdpHeader.HeaderLength + chunk];
            ip.AsSpan(0, headerLength + UdpHeader.HeaderLength).CopyTo(segment);
            ip.AsSpan(headerLength + UdpHeader.HeaderLength + (i * gsoSize), chunk).CopyTo(segment.AsSpan(headerLength + UdpHeader.HeaderLength));
            int udpLength = UdpHeader.HeaderLength + chunk;
            BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(headerLength + 4), (ushort)udpLength);
            ushort pseudo;
            if (version == 4)
            {
                BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(2), (ushort)segment.Length);
                BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(4), (ushort)(id + i));
                BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(10), 0);
                BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(10), Checksum.Compute(segment.AsSpan(0, headerLength)));
                pseudo = Checksum.PseudoHeaderSumV4(segment.AsSpan(12, 4), segment.AsSpan(16, 4), IpProtocol.Udp, (ushort)udpLength);
            }
            else
            {
                BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(4), (ushort)udpLength);
                pseudo = Checksum.PseudoHeaderSumV6(segment.AsSpan(8, 16), segment.AsSpan(24, 16), IpProtocol.Udp, (uint)udpLength);
            }

            var udp = segment.AsSpan(headerLength);
            BinaryPrimitives.WriteUInt16BigEndian(udp[UdpHeader.ChecksumFieldOffset..], 0);
            BinaryPrimitives.WriteUInt16BigEndian(udp[UdpHeader.ChecksumFieldOffset..], Mangle(Checksum.Compute(udp, pseudo)));
            datagrams.Add(segment);
        }

        return datagrams;
    }

    /// <summary>True when a delivered UDP datagram's IPv4 header checksum (if any) and UDP checksum are right.</summary>
    public static bool ChecksumsValid(byte[] datagram)
    {
        int version = datagram[0] >> 4;
        int headerLength = version == 4 ? (datagram[0] & 0xF) * 4 : 40;
        var udp = datagram.AsSpan(headerLength);
        ushort pseudo = version == 4
            ? Checksum.PseudoHeaderSumV4(datagram.AsSpan(12, 4), datagram.AsSpan(16, 4), IpProtocol.Udp, (ushort)udp.Length)
            : Checksum.PseudoHeaderSumV6(datagram.AsSpan(8, 16), datagram.AsSpan(24, 16), IpProtocol.Udp, (uint)udp.Length);
        return (version != 4 || Checksum.Verify(datagram.AsSpan(0, headerLength))) && Checksum.Verify(udp, pseudo);
    }

    /// <summary>A copy of <paramref name="packet"/> with its IPv4 header checksum and UDP checksum zeroed (the fields the kernel computes).</summary>
    public static byte[] WithoutChecksums(byte[] packet)
    {
        byte[] copy = (byte[])packet.Clone();
        int version = copy[0] >> 4;
        int headerLength = version == 4 ? (copy[0] & 0xF) * 4 : 40;
        byte protocol = version == 4 ? copy[9] : copy[6];
        if (version == 4)
        {
            copy.AsSpan(10, 2).Clear();
        }

        if (protocol == IpProtocol.Udp && copy.Length >= headerLength + UdpHeader.HeaderLength)
        {
            copy.AsSpan(headerLength + UdpHeader.ChecksumFieldOffset, 2).Clear();
        }

        return copy;
    }

    /// <summary>skb_checksum_help: the sum from csum_start (the field holds the pseudo-header sum) stored at csum_start + csum_offset.</summary>
    private static void Complete(byte[] ip, int start, int offset)
    {
        ushort checksum = Checksum.Compute(ip.AsSpan(start));
        BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(start + offset), Mangle(checksum));
    }

    /// <summary>A computed UDP checksum of 0 is sent as 0xFFFF (CSUM_MANGLED_0).</summary>
    private static ushort Mangle(ushort checksum) => checksum == 0 ? (ushort)0xFFFF : checksum;
}
