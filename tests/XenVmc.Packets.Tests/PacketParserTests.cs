using System.Buffers.Binary;
using XenVmc.Packets;
using Xunit;

namespace XenVmc.Packets.Tests;

public class PacketParserTests
{
    public static TheoryData<string> CorpusNames => new(PacketCorpus.All.Select(p => p.Name));

    private static CorpusPacket Find(string name) => PacketCorpus.All.Single(p => p.Name == name);

    [Theory]
    [MemberData(nameof(CorpusNames))]
    public void ParsesCorpus(string name)
    {
        CorpusPacket expected = Find(name);
        Assert.Equal(PacketDropReason.None, PacketParser.TryParse(expected.Bytes, out PacketInfo info));
        Assert.Equal(expected.Version, info.Version);
        Assert.Equal(expected.Protocol, info.Protocol);
        Assert.Equal(expected.TransportOffset, info.TransportOffset);
        Assert.Equal(expected.Bytes.Length, info.Length);
        Assert.Equal(expected.IsFragment, info.IsFragment);
        Assert.Equal(expected.IsFirstFragment, info.IsFirstFragment);
        IpKey source = expected.Version == 4 ? IpKey.FromIPv4(expected.Bytes.AsSpan(12, 4)) : IpKey.FromIPv6(expected.Bytes.AsSpan(8, 16));
        IpKey destination = expected.Version == 4 ? IpKey.FromIPv4(expected.Bytes.AsSpan(16, 4)) : IpKey.FromIPv6(expected.Bytes.AsSpan(24, 16));
        Assert.Equal(source, info.Source);
        Assert.Equal(destination, info.Destination);
    }

    [Theory]
    [MemberData(nameof(CorpusNames))]
    public void ReadsNothingPastTheTransportHeaderBound(string name)
    {
        // The data path copies only TransportOffset + MaxTransportHeaderLength bytes privately; every
        // byte after that may be changed by the peer and must not alter the verdict.
        CorpusPacket expected = Find(name);
        Assert.Equal(PacketDropReason.None, PacketParser.TryParse(expected.Bytes, out PacketInfo before));
        Assert.True(expected.TransportHeaderLength <= PacketParser.MaxTransportHeaderLength);
        int bound = before.TransportOffset + PacketParser.MaxTransportHeaderLength;
        var random = new Random(name.Length);
        for (int round = 0; round < 8; round++)
        {
            byte[] changed = (byte[])expected.Bytes.Clone();
            if (bound < changed.Length)
            {
                random.NextBytes(changed.AsSpan(bound));
            }

            Assert.Equal(PacketDropReason.None, PacketParser.TryParse(changed, out PacketInfo after));
            Assert.Equal(before, after);
        }
    }

    [Fact]
    public void GoldenAddresses()
    {
        Assert.Equal(PacketDropReason.None, PacketParser.TryParse(GoldenPackets.Bytes(GoldenPackets.V4TcpSyn), out PacketInfo v4));
        Assert.Equal("192.0.2.1", v4.Source.ToString());
        Assert.Equal("198.51.100.2", v4.Destination.ToString());
        Assert.Equal(PacketDropReason.None, PacketParser.TryParse(GoldenPackets.Bytes(GoldenPackets.V6TcpAckPsh), out PacketInfo v6));
        Assert.Equal("2001:db8::1", v6.Source.ToString());
        Assert.Equal("2001:db8::2", v6.Destination.ToString());
    }

    [Theory]
    [MemberData(nameof(CorpusNames))]
    public void EveryTruncationIsTruncated(string name)
    {
        byte[] packet = Find(name).Bytes;
        for (int length = 0; length < packet.Length; length++)
        {
            PacketDropReason reason = PacketParser.TryParse(packet.AsSpan(0, length), out PacketInfo info);
            Assert.True(reason == PacketDropReason.Truncated, $"{name} cut to {length}: {reason}");
            Assert.Equal(0, info.Version);
        }
    }

    [Theory]
    [MemberData(nameof(CorpusNames))]
    public void TrailingBytesAreAllowed(string name)
    {
        CorpusPacket expected = Find(name);
        for (int extra = 1; extra <= 64; extra *= 2)
        {
            byte[] padded = PacketBuilder.Concat(expected.Bytes, Enumerable.Repeat((byte)0xA5, extra).ToArray());
            Assert.Equal(PacketDropReason.None, PacketParser.TryParse(padded, out PacketInfo info));
            Assert.Equal(expected.Bytes.Length, info.Length);
        }
    }

    /// <summary>
    /// Rewrites the IP length field to claim every length from 0 up to the real one: each claim
    /// must get exactly the reason the packet's structure implies.
    /// </summary>
    [Theory]
    [MemberData(nameof(CorpusNames))]
    public void EveryClaimedLengthGetsTheRightReason(string name)
    {
        CorpusPacket packet = Find(name);
        byte[] bytes = (byte[])packet.Bytes.Clone();
        int minimum = packet.Version == 4 ? 0 : 40;
        for (int claimed = minimum; claimed <= bytes.Length; claimed++)
        {
            PacketDropReason expected;
            if (packet.Version == 4)
            {
                BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), (ushort)claimed);
                expected = claimed < packet.TransportOffset ? PacketDropReason.BadTotalLength
                    : claimed < packet.TransportOffset + packet.TransportHeaderLength ? PacketDropReason.BadTransportHeader
                    : PacketDropReason.None;
            }
            else
            {
                BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(4), (ushort)(claimed - 40));
                expected = claimed == 40 && bytes[6] == IpProtocol.Ipv6HopByHop ? PacketDropReason.TooLarge
                    : claimed < packet.TransportOffset ? PacketDropReason.BadExtensionChain
                    : claimed < packet.TransportOffset + packet.TransportHeaderLength ? PacketDropReason.BadTransportHeader
                    : PacketDropReason.None;
            }

            PacketDropReason reason = PacketParser.TryParse(bytes, out PacketInfo info);
            Assert.True(expected == reason, $"{name} claiming {claimed}: expected {expected}, got {reason}");
            if (reason == PacketDropReason.None)
            {
                Assert.Equal(claimed, info.Length);
                Assert.Equal(packet.TransportOffset, info.TransportOffset);
            }
        }
    }

    [Theory]
    [InlineData(0x00)]
    [InlineData(0x10)]
    [InlineData(0x50)]
    [InlineData(0x70)]
    [InlineData(0xF0)]
    public void OtherVersionsAreRefused(byte first)
    {
        Assert.Equal(PacketDropReason.BadVersion, PacketParser.TryParse([first], out _));
        Assert.Equal(PacketDropReason.BadVersion, PacketParser.TryParse(new byte[100].Select((_, i) => i == 0 ? first : (byte)0).ToArray(), out _));
    }

    [Fact]
    public void TinyFirstFragmentIsRefused()
    {
        // RFC 1858: a first fragment that splits the TCP header hides its flags from filters.
        byte[] packet = PacketBuilder.Ipv4(IpProtocol.Tcp, new byte[8], new Ipv4Spec { MoreFragments = true, DontFragment = false });
        Assert.Equal(PacketDropReason.BadTransportHeader, PacketParser.TryParse(packet, out _));

        byte[] v6 = PacketBuilder.Ipv6(IpProtocol.Tcp, new byte[8], new Ipv6Spec { Extensions = [Ipv6Extension.Fragment(0, true)] });
        Assert.Equal(PacketDropReason.BadTransportHeader, PacketParser.TryParse(v6, out _));
    }

    [Fact]
    public void TcpDataOffsetBelowFiveIsRefused()
    {
        byte[] packet = GoldenPackets.Bytes(GoldenPackets.V4TcpSyn);
        packet[20 + 12] = 0x40;
        Assert.Equal(PacketDropReason.BadTransportHeader, PacketParser.TryParse(packet, out _));
        packet[20 + 12] = 0xF0; // 60 bytes > 28 in the packet
        Assert.Equal(PacketDropReason.BadTransportHeader, PacketParser.TryParse(packet, out _));
    }

    /// <summary>Random mutations of valid packets, checked against <see cref="ReferenceParser"/>.</summary>
    [Fact]
    public void MutatedPacketsAgreeWithReferenceParser()
    {
        var random = new Random(20240601);
        int accepted = 0;
        var reasons = new HashSet<PacketDropReason>();
        for (int i = 0; i < 100_000; i++)
        {
            byte[] packet = Mutate(PacketCorpus.All[random.Next(PacketCorpus.All.Count)].Bytes, random);
            ReferenceParser.Result expected = ReferenceParser.Parse(packet);
            PacketDropReason reason = PacketParser.TryParse(packet, out PacketInfo info);
            reasons.Add(reason);
            if (expected.Reason != reason)
            {
                Assert.Fail($"iteration {i}: reference {expected.Reason}, parser {reason}, packet {Convert.ToHexStringLower(packet)}");
            }

            if (reason == PacketDropReason.None)
            {
                accepted++;
                var actual = new ReferenceParser.Result(reason, info.Version, info.Protocol, info.TransportOffset, info.Length, info.IsFragment, info.IsFirstFragment);
                Assert.Equal(expected, actual);
                CheckInvariants(packet, info);
            }
        }

        // The mutations must exercise both acceptance and every refusal the parser can give.
        Assert.InRange(accepted, 10_000, 90_000);
        Assert.Equal(Enum.GetValues<PacketDropReason>().Except([PacketDropReason.BadVnetHeader]).Order(), reasons.Order());
    }

    /// <summary>Random bytes, biased towards plausible version/IHL bytes: never throws, agrees with the reference.</summary>
    [Fact]
    public void RandomGarbageNeverThrows()
    {
        var random = new Random(42);
        byte[] buffer = new byte[256];
        byte[] vnet = new byte[VirtioNetHeader.Size];
        for (int i = 0; i < 200_000; i++)
        {
            int length = random.Next(0, buffer.Length + 1);
            random.NextBytes(buffer);
            if (length > 0)
            {
                buffer[0] = (i % 4) switch
                {
                    0 => (byte)(0x40 | random.Next(16)),
                    1 => (byte)(0x60 | random.Next(16)),
                    _ => buffer[0],
                };
            }

            if (length > 6 && i % 8 == 1)
            {
                buffer[6] = (byte)(i % 16 < 8 ? 0 : 44); // lead into extension headers
            }

            byte[] packet = buffer.AsSpan(0, length).ToArray();
            PacketDropReason reason = PacketParser.TryParse(packet, out PacketInfo info);
            Assert.Equal(ReferenceParser.Parse(packet).Reason, reason);
            if (reason == PacketDropReason.None)
            {
                CheckInvariants(packet, info);
                random.NextBytes(vnet);
                _ = PacketParser.ValidateVnet(vnet, info);
            }
        }
    }

    [Fact]
    public void ParsingAllocatesNothing()
    {
        byte[][] packets = PacketCorpus.All.Select(p => p.Bytes).ToArray();
        byte[] vnet = PacketBuilder.Vnet();
        int sink = 0;
        for (int i = 0; i < 1000; i++)
        {
            sink += Parse(packets, vnet);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            sink += Parse(packets, vnet);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.True(sink > 0);

        static int Parse(byte[][] packets, byte[] vnet)
        {
            int accepted = 0;
            foreach (byte[] packet in packets)
            {
                if (PacketParser.TryParse(packet, out PacketInfo info) == PacketDropReason.None
                    && PacketParser.ValidateVnet(vnet, info) == PacketDropReason.None
                    && info.Source != info.Destination
                    && info.Destination.GetHashCode() != 0)
                {
                    accepted++;
                }
            }

            return accepted;
        }
    }

    internal static void CheckInvariants(byte[] packet, PacketInfo info)
    {
        Assert.True(info.Version is 4 or 6);
        Assert.InRange(info.Length, info.Version == 4 ? 20 : 40, packet.Length);
        Assert.InRange(info.TransportOffset, info.Version == 4 ? 20 : 40, info.Length);
        Assert.True(!info.IsFirstFragment || info.IsFragment);
        if (!info.IsFragment || info.IsFirstFragment)
        {
            int room = info.Length - info.TransportOffset;
            int needed = info.Protocol switch
            {
                IpProtocol.Tcp => Math.Max(20, (packet[info.TransportOffset + 12] >> 4) * 4),
                IpProtocol.Udp => 8,
                IpProtocol.Icmp when info.Version == 4 => 8,
                IpProtocol.IcmpV6 when info.Version == 6 => 8,
                _ => 0,
            };
            Assert.True(needed <= room, $"transport header {needed} > {room}");
        }
    }

    internal static byte[] Mutate(byte[] original, Random random)
    {
        byte[] packet = (byte[])original.Clone();
        int mutations = random.Next(1, 4);
        for (int m = 0; m < mutations; m++)
        {
            switch (random.Next(6))
            {
                case 0: // one random byte in the headers
                    packet[random.Next(Math.Min(packet.Length, 128))] = (byte)random.Next(256);
                    break;
                case 1: // flip a bit anywhere
                    packet[random.Next(packet.Length)] ^= (byte)(1 << random.Next(8));
                    break;
                case 2: // a length field
                    int field = packet[0] >> 4 == 6 ? 4 : 2;
                    BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(field), (ushort)random.Next(0, packet.Length + 16));
                    break;
                case 3: // cut
                    Array.Resize(ref packet, random.Next(Math.Max(1, packet.Length - 8), packet.Length + 1));
                    break;
                case 4: // extension length byte or IHL / data offset nibble
                    if (packet.Length > 41)
                    {
                        packet[random.Next(2) == 0 ? 0 : 41] = (byte)random.Next(256);
                    }

                    break;
                default: // grow with junk
                    Array.Resize(ref packet, packet.Length + random.Next(1, 16));
                    break;
            }

            if (packet.Length == 0)
            {
                break;
            }
        }

        return packet;
    }
}
