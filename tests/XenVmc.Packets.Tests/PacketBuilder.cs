using System.Buffers.Binary;
using XenVmc.Packets;

namespace XenVmc.Packets.Tests;

/// <summary>Fields of an IPv4 header for <see cref="PacketBuilder.Ipv4"/>.</summary>
internal sealed record Ipv4Spec
{
    public byte[] Source { get; init; } = PacketBuilder.V4Source;
    public byte[] Destination { get; init; } = PacketBuilder.V4Destination;
    public byte TypeOfService { get; init; }
    public ushort Identification { get; init; } = 0x1234;
    public bool DontFragment { get; init; } = true;
    public bool MoreFragments { get; init; }

    /// <summary>Bytes; a multiple of 8.</summary>
    public int FragmentOffset { get; init; }
    public byte TimeToLive { get; init; } = 64;

    /// <summary>Raw option bytes; padded with end-of-list to a multiple of 4.</summary>
    public byte[] Options { get; init; } = [];

    /// <summary>Compute the TCP/UDP/ICMP checksum over the upper-layer bytes (not for fragments).</summary>
    public bool FillTransportChecksum { get; init; } = true;
}

/// <summary>One IPv6 extension header: its type and the bytes after next-header and length.</summary>
public sealed record Ipv6Extension(byte Type, byte[] Body)
{
    /// <summary>Hop-by-hop with one PadN option filling <paramref name="totalLength"/> bytes (a multiple of 8).</summary>
    public static Ipv6Extension HopByHop(int totalLength = 8) => new(IpProtocol.Ipv6HopByHop, PadN(totalLength - 2));

    public static Ipv6Extension DestinationOptions(int totalLength = 8) => new(IpProtocol.Ipv6DestinationOptions, PadN(totalLength - 2));

    /// <summary>A type-0-shaped routing header with segments left 0 and <paramref name="addresses"/> addresses.</summary>
    public static Ipv6Extension Routing(int addresses = 1)
    {
        byte[] body = new byte[6 + (16 * addresses)];
        body[0] = 0; // routing type
        body[1] = 0; // segments left
        return new Ipv6Extension(IpProtocol.Ipv6Routing, body);
    }

    /// <param name="offset">Bytes; a multiple of 8.</param>
    public static Ipv6Extension Fragment(int offset, bool more, uint identification = 0xCAFEBABE)
    {
        byte[] body = new byte[6];
        BinaryPrimitives.WriteUInt16BigEndian(body, (ushort)(offset | (more ? 1 : 0)));
        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(2), identification);
        return new Ipv6Extension(IpProtocol.Ipv6Fragment, body);
    }

    /// <summary>An AH with a 12-byte ICV: 24 bytes in all (a multiple of 8, as IPv6 requires).</summary>
    public static Ipv6Extension AuthenticationHeader(int icvLength = 12)
    {
        byte[] body = new byte[10 + icvLength];
        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(2), 0x1000); // SPI
        BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(6), 1);      // sequence number
        return new Ipv6Extension(IpProtocol.AuthenticationHeader, body);
    }

    public int TotalLength => 2 + Body.Length;

    /// <summary>Options area of <paramref name="length"/> bytes filled with PadN (and Pad1) options (RFC 8200 §4.2).</summary>
    private static byte[] PadN(int length)
    {
        byte[] body = new byte[length];
        int i = 0;
        while (length - i >= 2)
        {
            int chunk = Math.Min(length - i, 2 + 255);
            chunk = length - i - chunk == 1 ? chunk - 1 : chunk;
            body[i] = 1;
            body[i + 1] = (byte)(chunk - 2);
            i += chunk;
        }

        return body; // a last single byte stays 0, which is Pad1
    }
}

/// <summary>Fields of an IPv6 header for <see cref="PacketBuilder.Ipv6"/>.</summary>
internal sealed record Ipv6Spec
{
    public byte[] Source { get; init; } = PacketBuilder.V6Source;
    public byte[] Destination { get; init; } = PacketBuilder.V6Destination;
    public byte TrafficClass { get; init; }
    public uint FlowLabel { get; init; }
    public byte HopLimit { get; init; } = 64;
    public Ipv6Extension[] Extensions { get; init; } = [];
    public bool FillTransportChecksum { get; init; } = true;
}

/// <summary>Makes valid packets for tests, with correct lengths and checksums.</summary>
internal static class PacketBuilder
{
    public static readonly byte[] V4Source = [192, 0, 2, 1];
    public static readonly byte[] V4Destination = [198, 51, 100, 2];
    public static readonly byte[] V6Source = System.Net.IPAddress.Parse("2001:db8::1").GetAddressBytes();
    public static readonly byte[] V6Destination = System.Net.IPAddress.Parse("2001:db8::2").GetAddressBytes();

    /// <summary>A TCP segment with a zero checksum; <paramref name="options"/> are padded with end-of-list to a multiple of 4.</summary>
    public static byte[] Tcp(
        ushort sourcePort = 40000,
        ushort destinationPort = 80,
        uint sequence = 1,
        uint acknowledgment = 0,
        TcpFlags flags = TcpFlags.Ack,
        ushort window = 65535,
        byte[]? options = null,
        byte[]? payload = null)
    {
        options = PadTo4(options ?? []);
        payload ??= [];
        byte[] segment = new byte[20 + options.Length + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(segment, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(2), destinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(segment.AsSpan(4), sequence);
        BinaryPrimitives.WriteUInt32BigEndian(segment.AsSpan(8), acknowledgment);
        segment[12] = (byte)((20 + options.Length) / 4 << 4);
        segment[13] = (byte)flags;
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(14), window);
        options.CopyTo(segment, 20);
        payload.CopyTo(segment, 20 + options.Length);
        return segment;
    }

    /// <summary>A UDP datagram with the length set and a zero checksum.</summary>
    public static byte[] Udp(ushort sourcePort = 5353, ushort destinationPort = 53, byte[]? payload = null)
    {
        payload ??= [];
        byte[] datagram = new byte[8 + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(datagram, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(datagram.AsSpan(2), destinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(datagram.AsSpan(4), (ushort)datagram.Length);
        payload.CopyTo(datagram, 8);
        return datagram;
    }

    /// <summary>An ICMP (v4 or v6) message with a zero checksum.</summary>
    public static byte[] Icmp(byte type, byte code = 0, uint restOfHeader = 0, byte[]? payload = null)
    {
        payload ??= [];
        byte[] message = new byte[8 + payload.Length];
        message[0] = type;
        message[1] = code;
        BinaryPrimitives.WriteUInt32BigEndian(message.AsSpan(4), restOfHeader);
        payload.CopyTo(message, 8);
        return message;
    }

    public static byte[] Ipv4(byte protocol, byte[] upperLayer, Ipv4Spec? spec = null)
    {
        spec ??= new Ipv4Spec();
        byte[] options = PadTo4(spec.Options);
        int headerLength = 20 + options.Length;
        byte[] packet = new byte[headerLength + upperLayer.Length];
        packet[0] = (byte)(0x40 | (headerLength / 4));
        packet[1] = spec.TypeOfService;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)packet.Length);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), spec.Identification);
        int flagsAndOffset = (spec.DontFragment ? 0x4000 : 0) | (spec.MoreFragments ? 0x2000 : 0) | (spec.FragmentOffset / 8);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(6), (ushort)flagsAndOffset);
        packet[8] = spec.TimeToLive;
        packet[9] = protocol;
        spec.Source.CopyTo(packet, 12);
        spec.Destination.CopyTo(packet, 16);
        options.CopyTo(packet, 20);
        upperLayer.CopyTo(packet, headerLength);

        bool fragment = spec.MoreFragments || spec.FragmentOffset != 0;
        if (spec.FillTransportChecksum && !fragment)
        {
            Span<byte> l4 = packet.AsSpan(headerLength);
            ushort pseudo = Checksum.PseudoHeaderSumV4(spec.Source, spec.Destination, protocol, (ushort)l4.Length);
            FillTransportChecksum(protocol, IpProtocol.Icmp, l4, pseudo, icmpUsesPseudoHeader: false);
        }

        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(10), Ipv4Header.ComputeHeaderChecksum(packet.AsSpan(0, headerLength)));
        return packet;
    }

    public static byte[] Ipv6(byte protocol, byte[] upperLayer, Ipv6Spec? spec = null)
    {
        spec ??= new Ipv6Spec();
        int extensionLength = spec.Extensions.Sum(e => e.TotalLength);
        byte[] packet = new byte[40 + extensionLength + upperLayer.Length];
        BinaryPrimitives.WriteUInt32BigEndian(packet, (6u << 28) | ((uint)spec.TrafficClass << 20) | (spec.FlowLabel & 0xFFFFF));
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), (ushort)(packet.Length - 40));
        packet[6] = spec.Extensions.Length > 0 ? spec.Extensions[0].Type : protocol;
        packet[7] = spec.HopLimit;
        spec.Source.CopyTo(packet, 8);
        spec.Destination.CopyTo(packet, 24);

        int offset = 40;
        bool fragment = false;
        for (int i = 0; i < spec.Extensions.Length; i++)
        {
            Ipv6Extension extension = spec.Extensions[i];
            packet[offset] = i + 1 < spec.Extensions.Length ? spec.Extensions[i + 1].Type : protocol;
            packet[offset + 1] = extension.Type switch
            {
                IpProtocol.Ipv6Fragment => 0,
                IpProtocol.AuthenticationHeader => (byte)((extension.TotalLength / 4) - 2),
                _ => (byte)((extension.TotalLength / 8) - 1),
            };
            extension.Body.CopyTo(packet, offset + 2);
            if (extension.Type == IpProtocol.Ipv6Fragment)
            {
                fragment |= (BinaryPrimitives.ReadUInt16BigEndian(extension.Body) & 0xFFF9) != 0;
            }

            offset += extension.TotalLength;
        }

        upperLayer.CopyTo(packet, offset);
        if (spec.FillTransportChecksum && !fragment)
        {
            Span<byte> l4 = packet.AsSpan(offset);
            ushort pseudo = Checksum.PseudoHeaderSumV6(spec.Source, spec.Destination, protocol, (uint)l4.Length);
            FillTransportChecksum(protocol, IpProtocol.IcmpV6, l4, pseudo, icmpUsesPseudoHeader: true);
        }

        return packet;
    }

    /// <summary>A 10-byte virtio-net header.</summary>
    public static byte[] Vnet(
        VirtioNetHeaderFlags flags = VirtioNetHeaderFlags.None,
        VirtioNetGsoType gsoType = VirtioNetGsoType.None,
        ushort headerLength = 0,
        ushort gsoSize = 0,
        ushort checksumStart = 0,
        ushort checksumOffset = 0)
    {
        byte[] vnet = new byte[VirtioNetHeader.Size];
        VirtioNetHeader.Write(vnet, flags, gsoType, headerLength, gsoSize, checksumStart, checksumOffset);
        return vnet;
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    private static void FillTransportChecksum(byte protocol, byte icmpProtocol, Span<byte> l4, ushort pseudo, bool icmpUsesPseudoHeader)
    {
        int field = protocol switch
        {
            IpProtocol.Tcp when l4.Length >= 20 => TcpHeader.ChecksumFieldOffset,
            IpProtocol.Udp when l4.Length >= 8 => UdpHeader.ChecksumFieldOffset,
            _ when protocol == icmpProtocol && l4.Length >= 8 => IcmpHeader.ChecksumFieldOffset,
            _ => -1,
        };
        if (field < 0)
        {
            return;
        }

        ushort initial = protocol == icmpProtocol && !icmpUsesPseudoHeader ? (ushort)0 : pseudo;
        l4[field] = 0;
        l4[field + 1] = 0;
        ushort checksum = Checksum.Compute(l4, initial);
        if (protocol == IpProtocol.Udp && checksum == 0)
        {
            checksum = 0xFFFF; // RFC 768: zero means "no checksum"
        }

        BinaryPrimitives.WriteUInt16BigEndian(l4[field..], checksum);
    }

    private static byte[] PadTo4(byte[] options)
    {
        int padded = (options.Length + 3) & ~3;
        if (padded == options.Length)
        {
            return options;
        }

        byte[] result = new byte[padded];
        options.CopyTo(result, 0);
        return result;
    }
}
