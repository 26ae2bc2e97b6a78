using System.Net;
using XenVmc.Packets;
using Xunit;

namespace XenVmc.Packets.Tests;

/// <summary>
/// PacketDotNet as the third oracle: it builds packets our builder did not, and reads every
/// packet our parser accepts; both must agree on version, protocol, addresses, transport offset
/// and length.
/// </summary>
public class PacketDotNetOracleTests
{
    public static TheoryData<string> CorpusNames => PacketParserTests.CorpusNames;

    [Theory]
    [MemberData(nameof(CorpusNames))]
    public void CorpusReadsTheSame(string name)
    {
        CorpusPacket packet = PacketCorpus.All.Single(p => p.Name == name);
        Assert.Equal(PacketDropReason.None, PacketParser.TryParse(packet.Bytes, out PacketInfo info));
        Assert.Null(PacketDotNetOracle.Disagreement(packet.Bytes, info));
        Assert.True(PacketDotNetOracle.Read(packet.Bytes).ChainRead || packet.Version == 6, name);
    }

    [Theory]
    [MemberData(nameof(CorpusNames))]
    public void CorpusChecksumsAreValid(string name)
    {
        // An independent check of PacketBuilder's and the golden packets' RFC 1071 checksums.
        CorpusPacket packet = PacketCorpus.All.Single(p => p.Name == name);
        bool checksummed = packet.TransportHeaderLength > 0 && !packet.IsFragment && packet.Protocol != IpProtocol.IcmpV6;
        if (checksummed && PacketDotNetOracle.Read(packet.Bytes).ChainRead)
        {
            Assert.True(PacketDotNetOracle.TransportChecksumValid(packet.Bytes), name);
        }
    }

    public static TheoryData<string, string> Addresses => new()
    {
        { "198.18.0.1", "198.18.0.2" },
        { "fd00:198:18::1", "fd00:198:18::2" },
    };

    [Theory]
    [MemberData(nameof(Addresses))]
    public void PacketsBuiltByPacketDotNetParse(string source, string destination)
    {
        var from = IPAddress.Parse(source);
        var to = IPAddress.Parse(destination);
        var random = new Random(19);
        foreach (int size in new[] { 0, 1, 7, 8, 100, 1400, 8000, 65000 })
        {
            byte[] payload = new byte[size];
            random.NextBytes(payload);
            var packets = new List<(byte Protocol, byte[] Bytes)>
            {
                (IpProtocol.Tcp, PacketDotNetOracle.Tcp(from, to, 40000, 5201, payload)),
                (IpProtocol.Udp, PacketDotNetOracle.Udp(from, to, 40000, 5201, payload)),
            };
            if (from.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
            {
                packets.Add((IpProtocol.Icmp, PacketDotNetOracle.IcmpEcho(from, to, 7, 1, payload)));
            }

            foreach (var (protocol, bytes) in packets)
            {
                Assert.Equal(PacketDropReason.None, PacketParser.TryParse(bytes, out PacketInfo info));
                Assert.Equal(protocol, info.Protocol);
                Assert.Equal(from, info.Source.ToIPAddress());
                Assert.Equal(to, info.Destination.ToIPAddress());
                Assert.Equal(bytes.Length, info.Length);
                Assert.Equal(PacketDotNetOracle.FromInfo(info), PacketDotNetOracle.Read(bytes));
                Assert.Equal(ReferenceParser.Parse(bytes), new ReferenceParser.Result(PacketDropReason.None, info.Version, info.Protocol, info.TransportOffset, info.Length, info.IsFragment, info.IsFirstFragment));
                Assert.True(TransportChecksumVerifies(bytes, info), $"our checksum disagrees with PacketDotNet's on {protocol}/{size}");
            }
        }
    }

    /// <summary>
    /// Random mutations of valid packets: on every packet our parser (and so the reference
    /// parser) accepts, PacketDotNet reads the same fields without throwing.
    /// </summary>
    [Fact]
    public void MutatedPacketsAcceptedByUsReadTheSame()
    {
        var random = new Random(20261207);
        int accepted = 0;
        for (int i = 0; i < 30_000; i++)
        {
            byte[] packet = PacketParserTests.Mutate(PacketCorpus.All[random.Next(PacketCorpus.All.Count)].Bytes, random);
            if (PacketParser.TryParse(packet, out PacketInfo info) != PacketDropReason.None)
            {
                continue;
            }

            accepted++;
            string? disagreement = PacketDotNetOracle.Disagreement(packet, info);
            Assert.True(disagreement is null, $"iteration {i}: {disagreement}, packet {Convert.ToHexStringLower(packet)}");
        }

        Assert.InRange(accepted, 3_000, 27_000);
    }

    /// <summary>Our one's-complement sum over pseudo-header and segment is zero exactly when the checksum PacketDotNet wrote is right.</summary>
    private static bool TransportChecksumVerifies(byte[] packet, PacketInfo info)
    {
        ReadOnlySpan<byte> l4 = packet.AsSpan(info.TransportOffset, info.Length - info.TransportOffset);
        ushort initial = info.Version == 4
            ? info.Protocol == IpProtocol.Icmp ? (ushort)0 : Checksum.PseudoHeaderSumV4(packet.AsSpan(12, 4), packet.AsSpan(16, 4), info.Protocol, (ushort)l4.Length)
            : Checksum.PseudoHeaderSumV6(packet.AsSpan(8, 16), packet.AsSpan(24, 16), info.Protocol, (uint)l4.Length);
        return Checksum.Compute(l4, initial) == 0;
    }
}
