using System.Net;
using PacketDotNet;
using PacketDotNet.Utils;

namespace XenVmc.Packets.Tests;

/// <summary>
/// PacketDotNet as a third, independent reading of a packet (beside <see cref="PacketParser"/>
/// and <see cref="ReferenceParser"/>), in the terms of <see cref="PacketInfo"/>, and as a builder
/// of packets our own <see cref="PacketBuilder"/> did not write.
/// </summary>
/// <remarks>
/// PacketDotNet is a dissector, not a validator: it reads what a header says and throws (several
/// exception types) where a length runs past the buffer, so it is compared with our parser only
/// on packets our parser accepts, where both must read the same fields. Two differences are
/// PacketDotNet 1.4.8's, not ours, and are left out of the comparison: it reads every IPv6
/// extension header after the first from the first one's position (the chain never advances),
/// and it reads the AH length in 8-octet units where RFC 4302 §2.2 counts 4-octet words (ours:
/// RFC 8200 §4.3-4.6 and RFC 4302, checked byte by byte against the golden packets). And it walks
/// on through next-header values 135, 139, 140, 253 and 254 (RFC 7045's list), where our parser,
/// like the Linux kernel's <c>ipv6_ext_hdr()</c>, stops and reports that value as the upper-layer
/// protocol (no TCP, UDP or ICMP header is then checked). So on IPv6 with more than one extension
/// header, an AH or one of those values, only version, addresses and length are compared
/// (<see cref="Reading.ChainRead"/> false). Where we check no transport header (other protocols,
/// later fragments) PacketDotNet still dissects the payload (GRE, IP in IP, the bytes behind a
/// value above ...) and may throw on it: only there a throw is not a disagreement. Addresses are compared as bytes of the packet's own family
/// (<see cref="IpKey"/> folds IPv4-mapped IPv6 addresses into IPv4 by design).
/// </remarks>
internal static class PacketDotNetOracle
{
    /// <summary>What PacketDotNet read, or <see cref="Error"/> naming the exception it threw.</summary>
    /// <param name="ChainRead">False where PacketDotNet misreads the IPv6 extension chain: <see cref="Protocol"/> and <see cref="TransportOffset"/> are then 0.</param>
    internal readonly record struct Reading(int Version, byte Protocol, IPAddress? Source, IPAddress? Destination, int TransportOffset, int Length, string? Error, bool ChainRead = true)
    {
        /// <summary>This reading as far as PacketDotNet's reading of the same packet goes.</summary>
        public Reading As(Reading theirs) => theirs.ChainRead ? this : this with { Protocol = 0, TransportOffset = 0, ChainRead = false };
    }

    public static Reading Read(byte[] packet)
    {
        try
        {
            return Packet.ParsePacket(LinkLayers.Raw, packet).PayloadPacket switch
            {
                IPv4Packet v4 => new Reading(4, (byte)v4.Protocol, v4.SourceAddress, v4.DestinationAddress, v4.HeaderLength * 4, v4.TotalLength, null),
                IPv6Packet v6 when ChainMisread(v6) => new Reading(6, 0, v6.SourceAddress, v6.DestinationAddress, 0, v6.TotalLength, null, ChainRead: false),
                IPv6Packet v6 => new Reading(6, (byte)v6.Protocol, v6.SourceAddress, v6.DestinationAddress, (v6.HeaderLength * 4) + v6.ExtensionHeadersLength, v6.TotalLength, null),
                var other => new Reading(0, 0, null, null, 0, 0, other?.GetType().Name ?? "no IP packet"),
            };
        }
        catch (Exception e)
        {
            return new Reading(0, 0, null, null, 0, 0, e.GetType().Name);
        }
    }

    private static bool ChainMisread(IPv6Packet packet) =>
        packet.ExtensionHeaders.Count > 1 || packet.ExtensionHeaders.Any(h => h.Header is not (ProtocolType.IPv6HopByHopOptions
            or ProtocolType.IPv6RoutingHeader or ProtocolType.IPv6FragmentHeader or ProtocolType.IPv6DestinationOptions));

    /// <summary>Our parser's result in the same terms.</summary>
    public static Reading FromInfo(PacketInfo info) => new(
        info.Version,
        info.Protocol,
        Address(info.Version, info.Source),
        Address(info.Version, info.Destination),
        info.TransportOffset,
        info.Length,
        null);

    /// <summary>Null when PacketDotNet reads <paramref name="packet"/>, which our parser accepted as <paramref name="info"/>, the same way (as far as the remarks above allow); otherwise both readings.</summary>
    public static string? Disagreement(byte[] packet, PacketInfo info)
    {
        Reading theirs = Read(packet);
        bool transportChecked = (!info.IsFragment || info.IsFirstFragment)
            && (info.Protocol is IpProtocol.Tcp or IpProtocol.Udp || info.Protocol == (info.Version == 4 ? IpProtocol.Icmp : IpProtocol.IcmpV6));
        if (theirs.Error is not null && !transportChecked)
        {
            return null;
        }

        Reading ours = FromInfo(info).As(theirs);
        return ours == theirs ? null : $"ours {ours}, PacketDotNet {theirs}";
    }

    private static IPAddress Address(int version, IpKey key)
    {
        if (version == 4)
        {
            return key.ToIPAddress();
        }

        byte[] bytes = new byte[IpKey.Size];
        key.WriteBytes(bytes);
        return new IPAddress(bytes);
    }

    /// <summary>
    /// True when PacketDotNet finds the transport checksum of an unfragmented TCP, UDP or ICMPv4
    /// packet valid (false also when it cannot find the transport header: see the remarks above).
    /// </summary>
    public static bool TransportChecksumValid(byte[] packet)
    {
        var ip = Packet.ParsePacket(LinkLayers.Raw, packet).Extract<IPPacket>();
        return ip.PayloadPacket switch
        {
            TcpPacket tcp => tcp.ValidTcpChecksum,
            UdpPacket udp => udp.ValidUdpChecksum,
            IcmpV4Packet icmp => icmp.ValidIcmpChecksum,
            _ => true,
        };
    }

    /// <summary>A TCP segment (data offset 5, ACK|PSH) built and checksummed by PacketDotNet.</summary>
    public static byte[] Tcp(IPAddress source, IPAddress destination, ushort sourcePort, ushort destinationPort, byte[] payload)
    {
        var tcp = new TcpPacket(sourcePort, destinationPort)
        {
            SequenceNumber = 0x01020304,
            Acknowledgment = true,
            Push = true,
            WindowSize = 65535,
            PayloadData = payload,
        };
        return Finish(Ip(source, destination, tcp), tcp.UpdateTcpChecksum);
    }

    /// <summary>A UDP datagram built and checksummed by PacketDotNet.</summary>
    public static byte[] Udp(IPAddress source, IPAddress destination, ushort sourcePort, ushort destinationPort, byte[] payload)
    {
        var udp = new UdpPacket(sourcePort, destinationPort) { PayloadData = payload };
        return Finish(Ip(source, destination, udp), udp.UpdateUdpChecksum);
    }

    /// <summary>An ICMPv4 echo request built and checksummed by PacketDotNet.</summary>
    public static byte[] IcmpEcho(IPAddress source, IPAddress destination, ushort id, ushort sequence, byte[] data)
    {
        var icmp = new IcmpV4Packet(new ByteArraySegment(new byte[8 + data.Length]))
        {
            TypeCode = IcmpV4TypeCode.EchoRequest,
            Id = id,
            Sequence = sequence,
            Data = data,
        };
        icmp.UpdateIcmpChecksum();
        return Finish(Ip(source, destination, icmp), static () => { });
    }

    private static IPPacket Ip(IPAddress source, IPAddress destination, Packet payload)
    {
        IPPacket ip = source.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
            ? new IPv4Packet(source, destination) { TimeToLive = 64, FragmentFlags = 0x2 }
            : new IPv6Packet(source, destination) { HopLimit = 64 };
        ip.PayloadPacket = payload;
        return ip;
    }

    /// <summary>Lengths first (the transport checksum covers them), then the transport checksum, then the IPv4 header checksum.</summary>
    private static byte[] Finish(IPPacket ip, Action updateTransportChecksum)
    {
        ip.UpdateCalculatedValues();
        updateTransportChecksum();
        if (ip is IPv4Packet v4)
        {
            v4.UpdateIPChecksum();
        }

        return ip.Bytes;
    }
}
