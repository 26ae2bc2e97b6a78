using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using XenVmc.Guest;
using XenVmc.Guest.Channels;
using XenVmc.Guest.DataPath;
using XenVmc.Linux;
using XenVmc.Packets;
using XenVmc.Packets.Tests;
using XenVmc.Platform.Layout;
using XenVmc.Rings;
using XenVmc.Tests.Support;

namespace XenVmc.Tests.Guest.DataPath;

/// <summary>
/// The data loop's logic through its TUN seam (<see cref="IPacketQueue"/>): a fake queue in
/// memory and a real channel on the simulated host, passes run on the test's thread, no TUN,
/// no namespace. Order, a full ring's pending packet and its drop after the wait, and the
/// receive side's UDP coalescing (what the kernel would deliver from the writes, by the model
/// of its segmentation) including a hostile record inside a run.
/// </summary>
public sealed class GuestDataPathTests() : SimHostTests(TimeSpan.FromSeconds(60), 1, 2)
{
    private static readonly IPAddress Local = IPAddress.Parse("198.18.0.1");
    private static readonly IPAddress Peer = IPAddress.Parse("198.18.0.2");
    private static readonly IPAddress Stranger = IPAddress.Parse("198.18.0.77");

    [Fact]
    public async Task PacketsFromTheTun_ReachTheRingInOrder_AFullRingKeepsOne_ThenDropsItAfterTheWait()
    {
        var (context, low, high) = await ConnectAsync();
        using var tun = new FakePacketQueue(udpSegmentationOffload: false);
        using var rig = new Rig(context, tun, low);
        byte[] record = new byte[70_000];

        var sent = new List<byte[]>();
        for (int i = 0; i < 10; i++)
        {
            int length = DataPathPassTests.BuildUdp(record, 100 + i, Local, Peer, sequence: i);
            sent.Add(record[..length]);
            tun.Enqueue(record[..length]);
        }

        rig.Drain();
        Assert.Equal(sent, TakeRecords(high));

        // Larger packets than the ring holds at once: the pass keeps one and leaves the rest in the TUN.
        int big = DataPathPassTests.BuildUdp(record, 60_000, Local, Peer, sequence: 100);
        int total = (high.Consumer.Capacity / big) + 4;
        for (int i = 0; i < total; i++)
        {
            DataPathPassTests.BuildUdp(record, 60_000, Local, Peer, sequence: 100 + i);
            tun.Enqueue(record[..big]);
        }

        rig.Drain();
        Assert.True(tun.Queued >= 2, $"{tun.Queued} packets left in the TUN while one waits for space");
        Assert.Equal(0, rig.Link.Counters.TxRingFull);

        // Space again: the waiting packet goes first, in order.
        var taken = TakeRecords(high);
        rig.Drain();
        taken.AddRange(TakeRecords(high));
        var sequences = taken.Select(r => System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(r.AsSpan(VirtioNetHeader.Size + 28))).ToList();
        Assert.Equal(Enumerable.Range(100, sequences.Count), sequences);

        // No space for longer than the wait: the packet is dropped and the TUN read again; while
        // the peer takes nothing, the packets after it do not wait again.
        for (int i = 0; i < total; i++)
        {
            tun.Enqueue(record[..big]);
        }

        rig.Drain();
        int queued = tun.Queued;
        Assert.True(queued >= 2, $"{queued} packets left in the TUN while one waits for space");
        Thread.Sleep(GuestDataPath.SpaceWaitMs + 5);
        rig.Drain();
        Assert.Equal(queued + 1, rig.Link.Counters.TxRingFull);
        Assert.Equal(0, tun.Queued);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task RecordsFromThePeer_AreDeliveredAsIfWrittenOneByOne_CoalescedWhereTheTunTakesUdpGso(bool uso)
    {
        var (context, low, high) = await ConnectAsync();
        using var tun = new FakePacketQueue(uso);
        using var rig = new Rig(context, tun, low);
        byte[] record = new byte[2048];

        // A run of one flow ending in a shorter datagram; then a run with a record from an address
        // outside the peer's networks inside it (dropped), cut by one with a complete checksum (written alone).
        var admitted = new List<byte[]>();
        ushort id = 1000;
        void Put(int size, IPAddress source, bool needsChecksum = true, bool admit = true)
        {
            // The stranger's record takes no identification of the flow: the run goes on around it.
            ushort identification = admit ? id++ : (ushort)5000;
            int length = DataPathPassTests.BuildUdp(record, size, source, Local, needsChecksum, identification, sequence: identification);
            Assert.Equal(RingWriteStatus.Written, high.Producer.TryWrite(record.AsSpan(0, length), default));
            if (admit)
            {
                admitted.Add(record[..length]);
            }
        }

        for (int i = 0; i < 6; i++)
        {
            Put(i < 5 ? 1200 : 300, Peer);
        }

        Put(1200, Peer);
        Put(1200, Peer);
        Put(1200, Stranger, admit: false);
        Put(1200, Peer);
        Put(1200, Peer, needsChecksum: false);
        Put(1200, Peer);
        Put(1200, Peer);

        rig.Drain();

        Assert.Equal(admitted.Count, rig.Link.Counters.RxPackets);
        Assert.Equal(1, rig.Link.Counters.RxBadSource);
        var expected = admitted.SelectMany(r => KernelUdpSegmentation.Write(r)).Select(KernelUdpSegmentation.WithoutChecksums).ToList();
        var delivered = tun.Written.SelectMany(w => KernelUdpSegmentation.Write(w)).ToList();
        Assert.Equal(expected, delivered.Select(KernelUdpSegmentation.WithoutChecksums).ToList());
        foreach (var write in tun.Written.Where(w => w[1] == (byte)VirtioNetGsoType.UdpL4))
        {
            Assert.All(KernelUdpSegmentation.Write(write), d => Assert.True(KernelUdpSegmentation.ChecksumsValid(d)));
        }

        // Coalesced: the run of six, then 2 (+ the stranger dropped) + 1 in one group, the complete one alone, the last two.
        Assert.Equal(uso ? 4 : admitted.Count, tun.Written.Count);
        Assert.Equal(uso ? 11 : 0, rig.Link.Counters.RxCoalesced);
        Assert.False(low.Consumer.HasUnreleased);
    }

    private Task<(GuestContext Context, Channel Low, Channel High)> ConnectAsync() => DataPathPassTests.ConnectAsync(Host, Ct);

    /// <summary>Every record on the peer's side of the ring, released.</summary>
    private static List<byte[]> TakeRecords(Channel high)
    {
        var records = new List<byte[]>();
        while (high.Consumer.TryRead(out var r) == RingReadStatus.Record)
        {
            records.Add(r.Payload.ToArray());
        }

        high.Consumer.Release();
        return records;
    }

    /// <summary>The data path on a fake TUN, with a link to guest 2 (<see cref="Peer"/>) over <paramref name="channel"/>.</summary>
    private sealed class Rig : IDisposable
    {
        private readonly byte[] _tunBuffer = GC.AllocateUninitializedArray<byte>(TunDevice.MaxPacketSize + 1, pinned: true);
        private readonly byte[] _rxBuffer = GC.AllocateUninitializedArray<byte>(ChannelNodes.MaxRecordPayload, pinned: true);

        public Rig(GuestContext context, IPacketQueue tun, Channel channel)
        {
            DataPath = new GuestDataPath(tun, new RouteManager(RtNetlink.Open(), 1, 86), new GuestLog(NullLogger.Instance)) { CoalesceUdp = true };
            DataPath.SetLocalAddresses([Local]);
            Link = new PeerLink(context, DataPath, new PeerTableEntry(2, [Peer], ""));
            Link.AttachForTest(channel);
            DataPath.Publish(Link);
            DataPath.StartReceiving(Link);
        }

        public GuestDataPath DataPath { get; }

        public PeerLink Link { get; }

        /// <summary>Passes until one finds nothing to do.</summary>
        public void Drain()
        {
            while (DataPath.RunPass(_tunBuffer, _rxBuffer))
            {
            }
        }

        public void Dispose() => DataPath.Dispose();
    }
}
