using System.Buffers.Binary;
using FsCheck;
using FsCheck.Fluent;
using XenVmc.Packets;
using Xunit;

namespace XenVmc.Packets.Tests;

/// <summary>
/// <see cref="UdpCoalescer"/> against a model of the kernel's UDP segmentation
/// (<see cref="KernelUdpSegmentation"/>): whatever records a peer sends, the datagrams the kernel
/// delivers from the coalesced writes equal those it delivers when every record is written alone
/// (apart from the checksum fields it computes, which must then be right), in the same order.
/// </summary>
public sealed class UdpCoalescerTests
{
    private static readonly byte[] Admitted4 = [198, 18, 0, 2];
    private static readonly byte[] Local4 = [198, 18, 0, 1];
    private static readonly byte[] Spoofed4 = [198, 18, 0, 9];
    private static readonly byte[] Admitted6 = System.Net.IPAddress.Parse("fd00:198:18::2").GetAddressBytes();
    private static readonly byte[] Local6 = System.Net.IPAddress.Parse("fd00:198:18::1").GetAddressBytes();

    [Fact]
    public void EqualDatagramsOfOneFlow_BecomeOneSuperPacket_WithAShorterLastOne()
    {
        var stream = new Stream();
        var records = new List<byte[]>();
        for (int i = 0; i < 5; i++)
        {
            records.Add(stream.Record(new RecordSpec(Flow: 0, Payload: i < 4 ? 1400 : 700)));
        }

        var writes = CoalescedWrites(records);

        var write = Assert.Single(writes);
        VirtioNetHeader.TryCreate(write, out var vnet);
        Assert.Equal(VirtioNetGsoType.UdpL4, vnet.GsoType);
        Assert.Equal(VirtioNetHeaderFlags.NeedsChecksum, vnet.Flags);
        Assert.Equal(1400, vnet.GsoSize);
        Assert.Equal(20, vnet.ChecksumStart);
        Assert.Equal(UdpHeader.ChecksumFieldOffset, vnet.ChecksumOffset);
        Assert.Equal(20 + 8 + (4 * 1400) + 700, BinaryPrimitives.ReadUInt16BigEndian(write.AsSpan(VirtioNetHeader.Size + 2)));
        AssertSameDelivery(records, writes);
    }

    [Fact]
    public void ADatagramOfAnotherFlow_OrAfterAShorterOne_StartsANewGroup_AndOrderIsKept()
    {
        var stream = new Stream();
        byte[][] records =
        [
            stream.Record(new RecordSpec(0, 1000)),
            stream.Record(new RecordSpec(0, 1000)),
            stream.Record(new RecordSpec(1, 1000)),
            stream.Record(new RecordSpec(0, 1000)),
            stream.Record(new RecordSpec(0, 500)),
            stream.Record(new RecordSpec(0, 500)),
        ];

        var writes = CoalescedWrites(records);

        Assert.Equal(4, writes.Count);
        AssertSameDelivery(records, writes);
    }

    [Theory]
    [InlineData(Mutation.Ttl)]
    [InlineData(Mutation.Tos)]
    [InlineData(Mutation.IdentificationSkipped)]
    [InlineData(Mutation.BadIpv4Checksum)]
    [InlineData(Mutation.ChecksumComplete)]
    [InlineData(Mutation.UdpLengthShort)]
    [InlineData(Mutation.OwnGso)]
    [InlineData(Mutation.Fragment)]
    public void ARecordTheKernelWouldNotRebuildByteForByte_IsNotJoined(Mutation mutation)
    {
        var stream = new Stream();
        byte[][] records =
        [
            stream.Record(new RecordSpec(0, 600)),
            stream.Record(new RecordSpec(0, 600, mutation)),
        ];

        var writes = CoalescedWrites(records);

        Assert.Equal(2, writes.Count);
        AssertSameDelivery(records, writes);
    }

    [Fact]
    public void AGroupStopsAtTheSegmentLimit_AndAt65535IpBytes()
    {
        var stream = new Stream();
        var small = Enumerable.Range(0, UdpCoalescer.MaxSegments + 1).Select(_ => stream.Record(new RecordSpec(0, 64))).ToList();
        Assert.Equal(2, CoalescedWrites(small).Count);
        AssertSameDelivery(small, CoalescedWrites(small));

        var large = Enumerable.Range(0, 9).Select(_ => stream.Record(new RecordSpec(1, 8000))).ToList();
        var writes = CoalescedWrites(large);
        Assert.Equal(2, writes.Count);
        Assert.All(writes, w => Assert.True(w.Length - VirtioNetHeader.Size <= ushort.MaxValue));
        AssertSameDelivery(large, writes);
    }

    /// <summary>
    /// Random record sequences from an honest and a hostile peer (several flows, IPv4 and IPv6,
    /// equal and odd sizes, every field the kernel copies changed now and then, spoofed sources,
    /// malformed records, bad checksums, foreign GSO): the kernel delivers the same datagrams
    /// from the coalesced writes as from one write per record.
    /// </summary>
    [Fact]
    public void AnyRecordSequence_IsDeliveredAsIfWrittenOneByOne()
    {
        var spec = Gen.Choose(0, int.MaxValue).ArrayOf();
        Prop.ForAll(Arb.From(spec), seeds =>
        {
            var stream = new Stream();
            var records = seeds.Select(s => stream.Record(RecordSpec.From(s))).ToList();
            AssertSameDelivery(records, CoalescedWrites(records));
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(400).WithEndSize(200));
    }

    [Fact]
    public void Coalescing_AllocatesNothing()
    {
        var stream = new Stream();
        var records = Enumerable.Range(0, 200).Select(i => stream.Record(new RecordSpec(i % 7 == 0 ? 1 : 0, i % 5 == 4 ? 300 : 1000))).ToList();
        var infos = records.Select(Validate).ToArray();
        var coalescer = new UdpCoalescer();
        Drive(coalescer, records, infos, default, default);
        long before = GC.GetAllocatedBytesForCurrentThread();
        int writes = Drive(coalescer, records, infos, default, default);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.InRange(writes, 2, 100);
    }

    /// <summary>How a record departs from the next one its flow would send.</summary>
    public enum Mutation
    {
        None,
        Ttl,
        Tos,
        IdentificationSkipped,
        BadIpv4Checksum,
        ChecksumComplete,
        DataValid,
        UdpLengthShort,
        OwnGso,
        Fragment,
        SpoofedSource,
        NotForUs,
        Malformed,
        GarbageChecksum,
        Ipv4Options,
        Ipv6Extension,
    }

    /// <param name="Flow">0, 1: IPv4 flows (different ports); 2: IPv6.</param>
    private sealed record RecordSpec(int Flow, int Payload, Mutation Mutation = Mutation.None)
    {
        public static RecordSpec From(int seed)
        {
            int flow = seed % 3;
            int[] sizes = flow switch { 0 => [1400, 1400, 1400, 1400, 700, 1], 1 => [64, 64, 64, 64, 20, 0], _ => [8000, 8000, 8000, 1232, 1232, 3] };
            int size = sizes[(seed / 3) % sizes.Length];
            int mutation = (seed / 18) % 40;
            return new RecordSpec(flow, size, mutation < 25 ? Mutation.None : (Mutation)(mutation - 24));
        }
    }

    /// <summary>A peer's flows: consecutive IPv4 identifications per flow, as a connected socket sends them.</summary>
    private sealed class Stream
    {
        private readonly ushort[] _ids = [0xFFF0, 7, 0];

        public byte[] Record(RecordSpec spec)
        {
            var m = spec.Mutation;
            bool v6 = spec.Flow == 2;
            byte[] payload = new byte[spec.Payload];
            for (int i = 0; i < payload.Length; i++)
            {
                payload[i] = (byte)((i * 31) + _ids[spec.Flow]);
            }

            byte[] udp = PacketBuilder.Udp((ushort)(40000 + spec.Flow), 5555, payload);
            if (m == Mutation.UdpLengthShort && payload.Length > 0)
            {
                BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(4), (ushort)(udp.Length - 1));
            }

            bool complete = m is Mutation.ChecksumComplete;
            byte[] ip;
            if (v6)
            {
                ip = PacketBuilder.Ipv6(IpProtocol.Udp, udp, new Ipv6Spec
                {
                    Source = Admitted6,
                    Destination = m == Mutation.NotForUs ? Admitted6 : Local6,
                    HopLimit = (byte)(m == Mutation.Ttl ? 63 : 64),
                    TrafficClass = (byte)(m == Mutation.Tos ? 4 : 0),
                    FlowLabel = 0x12345,
                    Extensions = m == Mutation.Ipv6Extension ? [Ipv6Extension.DestinationOptions()] : [],
                    FillTransportChecksum = complete,
                });
            }
            else
            {
                ushort id = _ids[spec.Flow]++;
                if (m == Mutation.IdentificationSkipped)
                {
                    id = _ids[spec.Flow]++;
                }

                ip = PacketBuilder.Ipv4(IpProtocol.Udp, udp, new Ipv4Spec
                {
                    Source = m == Mutation.SpoofedSource ? Spoofed4 : Admitted4,
                    Destination = m == Mutation.NotForUs ? Admitted4 : Local4,
                    Identification = id,
                    TimeToLive = (byte)(m == Mutation.Ttl ? 63 : 64),
                    TypeOfService = (byte)(m == Mutation.Tos ? 0x10 : 0),
                    MoreFragments = m == Mutation.Fragment,
                    Options = m == Mutation.Ipv4Options ? [1, 1, 1, 1] : [],
                    FillTransportChecksum = complete,
                });
                if (m == Mutation.BadIpv4Checksum)
                {
                    ip[10] ^= 0x40;
                }
            }

            int l4 = v6 ? (m == Mutation.Ipv6Extension ? 48 : 40) : (m == Mutation.Ipv4Options ? 24 : 20);
            if (!complete && m != Mutation.Fragment)
            {
                // What a TUN read gives for a local socket's datagram: the pseudo-header sum, to be completed.
                ushort pseudo = v6
                    ? Checksum.PseudoHeaderSumV6(ip.AsSpan(8, 16), ip.AsSpan(24, 16), IpProtocol.Udp, (uint)(ip.Length - l4))
                    : Checksum.PseudoHeaderSumV4(ip.AsSpan(12, 4), ip.AsSpan(16, 4), IpProtocol.Udp, (ushort)(ip.Length - l4));
                BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(l4 + UdpHeader.ChecksumFieldOffset), m == Mutation.GarbageChecksum ? (ushort)0xBEEF : pseudo);
            }

            if (m == Mutation.Malformed)
            {
                ip[0] = 0x35;
            }

            byte[] vnet = m switch
            {
                Mutation.ChecksumComplete or Mutation.Fragment => PacketBuilder.Vnet(),
                Mutation.DataValid => PacketBuilder.Vnet(VirtioNetHeaderFlags.DataValid),
                Mutation.OwnGso when payload.Length > 2 => PacketBuilder.Vnet(VirtioNetHeaderFlags.NeedsChecksum, VirtioNetGsoType.UdpL4, (ushort)(l4 + 8), (ushort)(payload.Length / 2), (ushort)l4, UdpHeader.ChecksumFieldOffset),
                _ => PacketBuilder.Vnet(VirtioNetHeaderFlags.NeedsChecksum, checksumStart: (ushort)l4, checksumOffset: UdpHeader.ChecksumFieldOffset),
            };
            return PacketBuilder.Concat(vnet, ip);
        }
    }

    /// <summary>The receive validation every record passes before it may be written (or coalesced): null when it is dropped.</summary>
    private static PacketInfo? Validate(byte[] record)
    {
        if (PacketParser.TryParse(record.AsSpan(VirtioNetHeader.Size), out var info) != PacketDropReason.None
            || PacketParser.ValidateVnet(record.AsSpan(0, VirtioNetHeader.Size), info) != PacketDropReason.None)
        {
            return null;
        }

        bool admitted = info.Source == IpKey.FromIPv4(Admitted4) || info.Source == IpKey.FromIPv6(Admitted6);
        bool local = info.Destination == IpKey.FromIPv4(Local4) || info.Destination == IpKey.FromIPv6(Local6);
        return admitted && local ? info : null;
    }

    /// <summary>The writes the receive path makes with coalescing, driving <see cref="UdpCoalescer"/> the way PeerLink does.</summary>
    private static List<byte[]> CoalescedWrites(IReadOnlyList<byte[]> records)
    {
        var writes = new List<byte[]>();
        var payloads = new List<byte[]>();
        var infos = records.Select(Validate).ToArray();
        Drive(new UdpCoalescer(), records, infos, writes, payloads);
        return writes;
    }

    /// <summary>One pass over the records; returns the number of writes. With null lists it only counts (to measure allocation).</summary>
    private static int Drive(UdpCoalescer coalescer, IReadOnlyList<byte[]> records, IReadOnlyList<PacketInfo?> infos, List<byte[]>? writes, List<byte[]>? payloads)
    {
        int count = 0;
        void Flush()
        {
            if (coalescer.Count == 0)
            {
                return;
            }

            var headers = coalescer.BuildHeaders();
            writes?.Add([.. headers, .. payloads!.SelectMany(p => p)]);
            payloads?.Clear();
            coalescer.Clear();
            count++;
        }

        for (int i = 0; i < records.Count; i++)
        {
            if (infos[i] is not { } info)
            {
                continue;
            }

            var record = records[i].AsSpan(0, VirtioNetHeader.Size + info.Length);
            switch (coalescer.Classify(record, info))
            {
                case UdpCoalescing.Join:
                    coalescer.Join(info);
                    payloads?.Add(record[UdpCoalescer.PayloadOffset(info)..].ToArray());
                    break;
                case UdpCoalescing.Begin:
                    Flush();
                    coalescer.Begin(record, info);
                    payloads?.Add(record[UdpCoalescer.PayloadOffset(info)..].ToArray());
                    break;
                default:
                    Flush();
                    writes?.Add(record.ToArray());
                    count++;
                    break;
            }
        }

        Flush();
        return count;
    }

    private static void AssertSameDelivery(IReadOnlyList<byte[]> records, List<byte[]> writes)
    {
        var expected = records
            .Where(r => Validate(r) is not null)
            .SelectMany(r => KernelUdpSegmentation.Write(r.AsSpan(0, VirtioNetHeader.Size + Validate(r)!.Value.Length)))
            .ToList();
        var actual = new List<byte[]>();
        foreach (var write in writes)
        {
            var delivered = KernelUdpSegmentation.Write(write);
            VirtioNetHeader.TryCreate(write, out var vnet);
            if (vnet.GsoType != VirtioNetGsoType.None)
            {
                Assert.All(delivered, d => Assert.True(KernelUdpSegmentation.ChecksumsValid(d), "a datagram cut from a super-packet has a wrong checksum"));
            }

            actual.AddRange(delivered);
        }

        Assert.True(writes.Count <= expected.Count, $"{writes.Count} writes for {expected.Count} datagrams");
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(KernelUdpSegmentation.WithoutChecksums(expected[i]), KernelUdpSegmentation.WithoutChecksums(actual[i]));
        }
    }
}
