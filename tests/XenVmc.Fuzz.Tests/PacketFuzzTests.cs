using XenVmc.Packets;
using XenVmc.Packets.Tests;
using Xunit.Abstractions;

namespace XenVmc.Fuzz.Tests;

/// <summary>
/// The packet parser and every header view, on a virtio-net header plus a packet as a peer or a
/// local raw socket could hand them to us: nothing throws, every view stays inside its span, and
/// the parser agrees with the plain reference parser on every input and with PacketDotNet on
/// every input it accepts. Seeds: the packet corpus and packets PacketDotNet built.
/// </summary>
public sealed class PacketFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public void HeaderViewsAndParser()
    {
        var seeds = PacketCorpus.All.Select(p => p.Bytes).Concat(PacketDotNetSeeds()).SelectMany(p => new[]
        {
            [.. PacketBuilder.Vnet(), .. p],
            [.. PacketBuilder.Vnet(VirtioNetHeaderFlags.NeedsChecksum, VirtioNetGsoType.TcpV4, 54, 1448, 34, 16), .. p],
            [.. PacketBuilder.Vnet(VirtioNetHeaderFlags.NeedsChecksum, VirtioNetGsoType.UdpL4, 42, 1472, 34, 6), .. p],
            (byte[])[.. PacketBuilder.Vnet(VirtioNetHeaderFlags.NeedsChecksum, VirtioNetGsoType.TcpV6, 74, 1428, 54, 16), .. p],
        }).ToList();
        var loop = new FuzzLoop("packets", output, maxLength: 2048);
        loop.Run(seeds, Execute);
        Assert.True(loop.Signatures > 20, $"only {loop.Signatures} behaviours: the fuzzer is not reaching the parser");
    }

    internal static string Execute(byte[] input)
    {
        var vnet = input.AsSpan(0, Math.Min(input.Length, VirtioNetHeader.Size));
        byte[] packet = input.Length > VirtioNetHeader.Size ? input[VirtioNetHeader.Size..] : [];
        string views = Views(vnet, packet);

        var expected = ReferenceParser.Parse(packet);
        var reason = PacketParser.TryParse(packet, out var info);
        if (reason != expected.Reason)
        {
            throw new InvalidOperationException($"parser says {reason}, reference {expected.Reason}");
        }

        string vnetReason = "-";
        if (reason == PacketDropReason.None)
        {
            var actual = new ReferenceParser.Result(reason, info.Version, info.Protocol, info.TransportOffset, info.Length, info.IsFragment, info.IsFirstFragment);
            if (actual != expected)
            {
                throw new InvalidOperationException($"parser {actual}, reference {expected}");
            }

            Check(info.Length <= packet.Length && info.TransportOffset <= info.Length, "PacketInfo outside the packet");
            if (PacketDotNetOracle.Disagreement(packet, info) is { } disagreement)
            {
                throw new InvalidOperationException(disagreement);
            }
            if (vnet.Length == VirtioNetHeader.Size)
            {
                vnetReason = PacketParser.ValidateVnet(vnet, info).ToString();
            }
        }

        return $"{reason}/{info.Version}/{info.Protocol}/{info.IsFragment}{info.IsFirstFragment}/{vnetReason}/{views}";
    }

    private static IEnumerable<byte[]> PacketDotNetSeeds()
    {
        var v4 = (System.Net.IPAddress.Parse("198.18.0.1"), System.Net.IPAddress.Parse("198.18.0.2"));
        var v6 = (System.Net.IPAddress.Parse("fd00:198:18::1"), System.Net.IPAddress.Parse("fd00:198:18::2"));
        foreach (var (from, to) in new[] { v4, v6 })
        {
            yield return PacketDotNetOracle.Tcp(from, to, 40000, 5201, new byte[24]);
            yield return PacketDotNetOracle.Udp(from, to, 40000, 5201, new byte[12]);
        }

        yield return PacketDotNetOracle.IcmpEcho(v4.Item1, v4.Item2, 7, 1, new byte[16]);
    }

    /// <summary>Every view over the raw bytes: TryCreate, then every property; returns which views accepted.</summary>
    private static string Views(ReadOnlySpan<byte> vnet, ReadOnlySpan<byte> packet)
    {
        long sink = 0;
        var result = new char[6];
        if (VirtioNetHeader.TryCreate(vnet, out var v) is var vr && vr == PacketDropReason.None)
        {
            sink += (int)v.Flags + (int)v.GsoType + (int)v.GsoKind + (v.HasEcn ? 1 : 0) + v.HeaderLength + v.GsoSize + v.ChecksumStart + v.ChecksumOffset;
        }

        result[0] = Letter(vr);
        if (Ipv4Header.TryCreate(packet, out var ip4) is var r4 && r4 == PacketDropReason.None)
        {
            Check(ip4.HeaderLength >= 20 && ip4.HeaderLength <= ip4.Packet.Length && ip4.Packet.Length <= packet.Length, "IPv4 view outside the packet");
            sink += ip4.Version + ip4.TypeOfService + ip4.Dscp + ip4.Ecn + ip4.TotalLength + ip4.Identification + ip4.FragmentOffset + ip4.TimeToLive + ip4.Protocol + ip4.HeaderChecksum;
            sink += ip4.SourceAddress[0] + ip4.DestinationAddress[3] + ip4.Header.Length + ip4.Options.Length + ip4.Payload.Length + (ip4.IsHeaderChecksumValid() ? 1 : 0);
            foreach (var option in ip4.EnumerateOptions())
            {
                sink += option.Type + option.Data.Length;
            }

            sink += Transport(ip4.Protocol, ip4.Payload);
        }

        result[1] = Letter(r4);
        if (Ipv6Header.TryCreate(packet, out var ip6) is var r6 && r6 == PacketDropReason.None)
        {
            Check(ip6.UpperLayerOffset >= 40 && ip6.UpperLayerOffset <= ip6.Length && ip6.Length <= packet.Length, "IPv6 view outside the packet");
            sink += ip6.Version + ip6.TrafficClass + ip6.FlowLabel + ip6.PayloadLength + ip6.NextHeader + ip6.HopLimit + ip6.ExtensionHeaderCount + ip6.UpperLayerProtocol;
            sink += ip6.SourceAddress[15] + ip6.DestinationAddress[0] + ip6.Payload.Length + ip6.UpperLayerPayload.Length + ip6.FragmentOffset + ip6.FragmentIdentification;
            sink += (ip6.IsFragment ? 1 : 0) + (ip6.IsFirstFragment ? 1 : 0) + (ip6.MoreFragments ? 1 : 0);
            sink += Transport(ip6.UpperLayerProtocol, ip6.UpperLayerPayload);
        }

        result[2] = Letter(r6);
        result[3] = Letter(TcpHeader.TryCreate(packet, out _));
        result[4] = Letter(UdpHeader.TryCreate(packet, out _));
        result[5] = Letter(IcmpHeader.TryCreate(packet, out _));
        GC.KeepAlive(sink);
        return new string(result);
    }

    private static long Transport(byte protocol, ReadOnlySpan<byte> payload)
    {
        long sink = 0;
        if (protocol == IpProtocol.Tcp && TcpHeader.TryCreate(payload, out var tcp) == PacketDropReason.None)
        {
            Check(tcp.HeaderLength >= 20 && tcp.HeaderLength <= payload.Length, "TCP view outside the segment");
            sink += tcp.SourcePort + tcp.DestinationPort + tcp.SequenceNumber + tcp.AcknowledgmentNumber + (int)tcp.Flags + tcp.WindowSize + tcp.Checksum + tcp.UrgentPointer + tcp.Options.Length + tcp.Payload.Length;
        }
        else if (protocol == IpProtocol.Udp && UdpHeader.TryCreate(payload, out _) == PacketDropReason.None)
        {
            sink++;
        }
        else if (protocol is IpProtocol.Icmp or IpProtocol.IcmpV6 && IcmpHeader.TryCreate(payload, out _) == PacketDropReason.None)
        {
            sink += 2;
        }

        return sink;
    }

    private static char Letter(PacketDropReason reason) => (char)('a' + (int)reason);

    private static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException(what);
        }
    }
}
