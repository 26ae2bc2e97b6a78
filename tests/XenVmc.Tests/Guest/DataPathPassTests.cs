using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging.Abstractions;
using XenVmc.Guest;
using XenVmc.Guest.Channels;
using XenVmc.Guest.DataPath;
using XenVmc.Linux;
using XenVmc.Linux.Tests;
using XenVmc.Packets;
using XenVmc.Platform.Layout;
using XenVmc.Rings;
using XenVmc.Tests.Support;

namespace XenVmc.Tests.Guest;

/// <summary>
/// The data thread's per-packet pass (<see cref="GuestDataPath.RunPass(byte[], byte[])"/>) on a
/// real TUN in a private network namespace and a real channel on the simulated host, run on the
/// test's thread. It allocates nothing per packet (between two readings of
/// <see cref="GC.GetAllocatedBytesForCurrentThread"/>), and after a suspend and resume (Xen
/// save/restore, migration) it never touches the peer's pages: on Xen the daemon died of such a
/// touch and the guest kernel oopsed in gntdev's unmap notification. There the mappings are made
/// PROT_NONE when the injected resume clock jumps, so any touch kills the test process. Needs
/// root (CAP_NET_ADMIN), as CI has.
/// </summary>
public sealed partial class DataPathPassTests() : SimHostTests(TimeSpan.FromSeconds(60), 1, 2)
{
    private static readonly IPAddress Local = IPAddress.Parse("198.18.0.1");
    private static readonly IPAddress Peer = IPAddress.Parse("198.18.0.2");

    [Fact]
    public async Task TunToRing_AndRingToTun_AllocateNothingPerPacket()
    {
        var (context, low, high) = await ConnectAsync();
        NetnsThread.Run(() => Run(context, low, high), timeoutMs: 50_000);
    }

    private Task<(GuestContext Context, Channel Low, Channel High)> ConnectAsync() => ConnectAsync(Host, Ct);

    /// <summary>A channel between guests 1 (the low side, whose context is returned) and 2 of <paramref name="host"/>.</summary>
    internal static async Task<(GuestContext Context, Channel Low, Channel High)> ConnectAsync(SimHost host, CancellationToken ct)
    {
        var context = host.Guest(1);
        var offering = ChannelOffer.OfferAsync(context, 2, ct);
        var accepting = ChannelAccept.AcceptAsync(host.Guest(2), 1, ct);
        await Task.WhenAll(offering, accepting).WaitAsync(TimeSpan.FromSeconds(10));
        return (context, host.Own(await offering), host.Own(await accepting));
    }

    private static void Run(GuestContext context, Channel low, Channel high)
    {
        using var rig = new Rig(context, 2, Local, Peer, low);
        var (dataPath, link) = (rig.DataPath, rig.Link);

        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        sender.Bind(new IPEndPoint(Local, 0));
        using var receiver = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        receiver.Bind(new IPEndPoint(Local, 5555));
        receiver.ReceiveBufferSize = 4 << 20;
        receiver.Blocking = false;

        byte[] tunBuffer = GC.AllocateUninitializedArray<byte>(TunDevice.MaxPacketSize + 1, pinned: true);
        byte[] rxBuffer = GC.AllocateUninitializedArray<byte>(ChannelNodes.MaxRecordPayload, pinned: true);
        byte[] payload = new byte[1472];
        byte[] bulk = new byte[BulkDatagram];
        byte[] record = new byte[VirtioNetHeader.Size + 20 + 8 + payload.Length];
        byte[] sink = new byte[2048];
        int[] expectedSizes = new int[60 * 200];
        int lastSequence = -1;

        // Warm-up rounds take JIT and tiering out of the measurement; only the later rounds count.
        long txAllocated = 0, rxAllocated = 0, forwarded = 0, delivered = 0, ringRecords = 0, socketDatagrams = 0;
        for (int round = 0; round < 60; round++)
        {
            bool measured = round >= 10;

            // TUN → ring: the kernel routes datagrams to the peer into the TUN; the daemon's reader step takes them.
            // One in 25 is a bulk-sized packet, after which the next is read straight into the ring.
            for (int i = 0; i < 200; i++)
            {
                var datagram = i % 25 == 7 ? bulk.AsSpan() : payload.AsSpan(0, 1 + ((round * 200 + i) * 37 % payload.Length));
                sender.SendTo(datagram, SocketFlags.None, new IPEndPoint(Peer, 9));
            }

            long readBefore = dataPath.Counters.ReadPackets;
            long before = GC.GetAllocatedBytesForCurrentThread();
            while (dataPath.RunPass(tunBuffer, rxBuffer))
            {
            }

            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            long n = dataPath.Counters.ReadPackets - readBefore;
            while (high.Consumer.TryRead(out _) == RingReadStatus.Record)
            {
                ringRecords += measured ? 1 : 0;
            }

            high.Consumer.Release();

            // Ring → TUN: the peer puts datagrams for us on the ring; the daemon's receive step checks and writes them.
            // Runs of equal datagrams as a local socket sends them (checksum left to the kernel, consecutive
            // identifications) are coalesced into UDP GSO super-packets; every 7th has a complete checksum
            // and an odd size and is written alone. Each payload starts with its sequence number.
            int queued = 0;
            for (int i = 0; i < 200; i++)
            {
                bool alone = i % 7 == 6;
                int size = alone ? 5 + ((round * 200 + i) * 53 % (payload.Length - 5)) : i % 7 == 5 ? 700 : 1200;
                int length = BuildUdp(record, size, Peer, Local, needsChecksum: !alone, identification: (ushort)(round * 200 + i), sequence: round * 200 + i);
                if (high.Producer.TryWrite(record.AsSpan(0, length), default) != RingWriteStatus.Written)
                {
                    break;
                }

                expectedSizes[(round * 200) + i] = size;
                queued++;
            }

            long receivedBefore = link.Counters.RxPackets;
            long rxBefore = GC.GetAllocatedBytesForCurrentThread();
            while (dataPath.RunPass(tunBuffer, rxBuffer))
            {
            }

            long rxAfter = GC.GetAllocatedBytesForCurrentThread() - rxBefore;
            long m = link.Counters.RxPackets - receivedBefore;
            Assert.Equal(queued, m);
            int got;
            while ((got = TryReceive(receiver, sink)) >= 0)
            {
                // In order, whole, and from the right record (the kernel cut super-packets back into datagrams).
                int sequence = BinaryPrimitives.ReadInt32BigEndian(sink);
                Assert.True(sequence > lastSequence, $"datagram {sequence} after {lastSequence}");
                Assert.Equal(expectedSizes[sequence], got);
                lastSequence = sequence;
                socketDatagrams += measured ? 1 : 0;
            }

            if (measured)
            {
                txAllocated += allocated;
                rxAllocated += rxAfter;
                forwarded += n;
                delivered += m;
            }
        }

        Assert.Equal(0, txAllocated);
        Assert.Equal(0, rxAllocated);
        Assert.True(dataPath.DirectReads >= 60 * 8 / 2, $"only {dataPath.DirectReads} packets were read straight into the ring");

        // The work really happened: most datagrams crossed the ring, every ring record reached the TUN and a socket.
        Assert.True(forwarded >= 5_000, $"only {forwarded} packets read from the TUN");
        Assert.True(ringRecords >= forwarded * 9 / 10, $"{ringRecords} of {forwarded} packets reached the ring");
        Assert.Equal(10_000, delivered);
        Assert.True(socketDatagrams >= 9_000, $"only {socketDatagrams} of {delivered} datagrams written into the TUN reached the socket");
        Assert.Equal(0, link.Counters.RxBadSource + link.Counters.RxBadDestination + link.Counters.RxMalformedTotal + link.Counters.RxTunErrors);

        // Where the kernel takes UDP GSO writes, the equal datagrams went out as super-packets.
        if (dataPath.CoalescesUdp)
        {
            Assert.True(link.Counters.RxCoalesced >= link.Counters.RxPackets * 5 / 7 * 9 / 10, $"only {link.Counters.RxCoalesced} records were coalesced");
            Assert.True(link.Counters.RxSuperPackets <= link.Counters.RxCoalesced / 2);
        }
    }

    [Fact]
    public async Task AfterAResume_TheHighSideNeverTouchesThePeersPages_AndAbandonsThem()
    {
        long sleptNs = 0;
        var resume = new ResumeEpoch(() => Volatile.Read(ref sleptNs));
        var context = Host.Guest(2, resume);
        var offering = ChannelOffer.OfferAsync(Host.Guest(1), 2, Ct);
        var accepting = ChannelAccept.AcceptAsync(context, 1, Ct);
        await Task.WhenAll(offering, accepting).WaitAsync(TimeSpan.FromSeconds(10));
        var low = Host.Own(await offering);
        var high = Host.Own(await accepting);
        Assert.Equal(0, high.Epoch);

        NetnsThread.Run(() => RunResume(context, resume, () => Volatile.Write(ref sleptNs, 4_000_000_000), low, high), timeoutMs: 50_000);
    }

    private static void RunResume(GuestContext context, ResumeEpoch resume, Action suspendAndResume, Channel low, Channel high)
    {
        // This guest is domain 2 (Peer's address), the high side, mapping domain 1's pages.
        using var rig = new Rig(context, 1, Peer, Local, high);
        var (dataPath, link) = (rig.DataPath, rig.Link);

        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        sender.Bind(new IPEndPoint(Peer, 0));
        byte[] tunBuffer = GC.AllocateUninitializedArray<byte>(TunDevice.MaxPacketSize + 1, pinned: true);
        byte[] rxBuffer = GC.AllocateUninitializedArray<byte>(ChannelNodes.MaxRecordPayload, pinned: true);
        byte[] record = new byte[2048];

        // Before: both directions work.
        sender.SendTo(new byte[100], new IPEndPoint(Local, 9));
        Assert.Equal(RingWriteStatus.Written, low.Producer.TryWrite(record.AsSpan(0, BuildUdp(record, 100, Local, Peer)), default));
        while (dataPath.RunPass(tunBuffer, rxBuffer))
        {
        }

        Assert.True(link.Counters.TxPackets >= 1, "the datagram did not reach the ring");
        Assert.Equal(1, link.Counters.RxPackets);
        while (low.Consumer.TryRead(out _) == RingReadStatus.Record)
        {
        }

        low.Consumer.Release();
        long txBefore = link.Counters.TxPackets;

        // The domain is suspended and resumed: the peer's pages are gone from behind the mappings.
        Assert.Equal(RingWriteStatus.Written, low.Producer.TryWrite(record.AsSpan(0, BuildUdp(record, 100, Local, Peer)), default));
        suspendAndResume();
        foreach (var region in high.Regions)
        {
            Assert.Equal(0, MProtect(region.Address, (nuint)region.Length, 0));
        }

        long notConnected = dataPath.Counters.NotConnected;
        for (int i = 0; i < 5; i++)
        {
            sender.SendTo(new byte[100], new IPEndPoint(Local, 9));
        }

        while (dataPath.RunPass(tunBuffer, rxBuffer))
        {
        }

        Assert.True(link.PrepareToSleep(), "a stale channel has nothing to arm");
        Assert.False(link.PrepareToWaitForSpace(200), "a stale channel has no space to wait for");
        Assert.Equal(1, resume.Current);
        Assert.True(dataPath.Counters.NotConnected >= notConnected + 5, $"{dataPath.Counters.NotConnected - notConnected} of 5 datagrams counted as not connected");
        Assert.Equal(txBefore, link.Counters.TxPackets);
        Assert.Equal(1, link.Counters.RxPackets);

        // Released without a touch (a Dispose would write our goodbye into the control page).
        dataPath.StopReceiving(link);
        high.Close(resume);
    }

    /// <summary>A UDP payload that makes a packet long enough for the next one to be read straight into the ring.</summary>
    private const int BulkDatagram = 20_000;

    [Fact]
    public async Task APacketQueuedForAPeerThatLeft_NeverLandsInTheRemainingPeersRing()
    {
        var (context, low, high) = await ConnectAsync();
        NetnsThread.Run(() => RunWithdraw(context, low, high), timeoutMs: 50_000);
    }

    private static void RunWithdraw(GuestContext context, Channel low, Channel high)
    {
        // Peer 2 (connected, channel `low`) stays; peer 3 (198.18.0.3) is published with a route and then leaves.
        using var rig = new Rig(context, 2, Local, Peer, low);
        var (dataPath, link) = (rig.DataPath, rig.Link);
        var leaving = IPAddress.Parse("198.18.0.3");
        var other = new PeerLink(context, dataPath, new PeerTableEntry(3, [leaving], ""));
        dataPath.Publish(other);
        rig.Route(leaving, add: true);

        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        sender.Bind(new IPEndPoint(Local, 0));
        byte[] tunBuffer = GC.AllocateUninitializedArray<byte>(TunDevice.MaxPacketSize + 1, pinned: true);
        byte[] rxBuffer = GC.AllocateUninitializedArray<byte>(ChannelNodes.MaxRecordPayload, pinned: true);
        byte[] mine = new byte[BulkDatagram];
        byte[] secret = new byte[BulkDatagram];
        secret.AsSpan().Fill(0xC3);

        void Drain()
        {
            while (dataPath.RunPass(tunBuffer, rxBuffer))
            {
            }

            while (high.Consumer.TryRead(out _) == RingReadStatus.Record)
            {
            }

            high.Consumer.Release();
        }

        // Bulk traffic to peer 2, so the next read would go straight into a ring if only one peer were published.
        sender.SendTo(mine, new IPEndPoint(Peer, 9));
        Drain();
        Assert.Equal(0, dataPath.DirectReads);

        // Peer 3's packets are still queued in the TUN when its route goes and it is withdrawn.
        for (int i = 0; i < 3; i++)
        {
            sender.SendTo(secret, new IPEndPoint(leaving, 9));
        }

        sender.SendTo(mine, new IPEndPoint(Peer, 9));
        rig.Route(leaving, add: false);
        dataPath.Withdraw(other);
        long noPeer = dataPath.Counters.NoPeer;
        long sent = link.Counters.TxPackets;
        Drain();

        // Peer 3's packets were read privately and dropped; none of their bytes ever reached peer 2's pages.
        Assert.Equal(3, dataPath.Counters.NoPeer - noPeer);
        Assert.Equal(1, link.Counters.TxPackets - sent);
        Assert.Equal(0, dataPath.DirectReads);
        foreach (var region in low.Regions)
        {
            byte[] pages = new byte[region.Length];
            Marshal.Copy(region.Address, pages, 0, region.Length);
            Assert.True(pages.AsSpan().IndexOf(secret.AsSpan(0, 256)) < 0, "a packet for the peer that left was written into the remaining peer's ring");
        }

        // The TUN was seen empty since: bulk traffic to the one peer left is read straight into its ring again.
        sender.SendTo(mine, new IPEndPoint(Peer, 9));
        sender.SendTo(mine, new IPEndPoint(Peer, 9));
        Drain();
        Assert.Equal(2, dataPath.DirectReads);
        Assert.Equal(3, link.Counters.TxPackets - sent);
    }

    /// <summary>A real TUN in the test's namespace with a route to the peer, the data path on it, and a link over <paramref name="channel"/>.</summary>
    private sealed class Rig : IDisposable
    {
        private readonly RtNetlink _rtnl = RtNetlink.Open();
        private readonly TunDevice _tun = TunDevice.Open("vmc0", new TunOpenOptions { NonBlocking = true });
        private readonly IPAddress _local;

        public Rig(GuestContext context, ushort peerDomid, IPAddress local, IPAddress peer, Channel channel)
        {
            _local = local;

            // No IPv6 on the test's TUN: its own link-local housekeeping (an MLD report a moment after
            // the link comes up) would be read as one more packet without a peer.
            File.WriteAllText($"/proc/sys/net/ipv6/conf/{_tun.Name}/disable_ipv6", "1");
            NetworkInterfaces.SetMtu(_tun.Name, 65520);
            _rtnl.SetLinkUp(_tun.IfIndex, true);
            _rtnl.AddAddress(_tun.IfIndex, local, 32);
            _rtnl.ReplaceRoute(new RouteSpec(peer, 32, _tun.IfIndex, local, 86));
            DataPath = new GuestDataPath(_tun, new RouteManager(RtNetlink.Open(), _tun.IfIndex, 86), new GuestLog(NullLogger.Instance)) { CoalesceUdp = true };
            DataPath.SetLocalAddresses([local]);
            Link = new PeerLink(context, DataPath, new PeerTableEntry(peerDomid, [peer], ""));
            Link.AttachForTest(channel);
            DataPath.Publish(Link);
            DataPath.StartReceiving(Link);
        }

        public GuestDataPath DataPath { get; }

        public PeerLink Link { get; }

        public void Route(IPAddress peer, bool add)
        {
            var route = new RouteSpec(peer, 32, _tun.IfIndex, _local, 86);
            if (add)
            {
                _rtnl.ReplaceRoute(route);
            }
            else
            {
                Assert.True(_rtnl.DeleteRoute(route));
            }
        }

        public void Dispose()
        {
            DataPath.Dispose();
            _tun.Dispose();
            _rtnl.Dispose();
        }
    }

    private static int TryReceive(Socket socket, byte[] buffer)
    {
        try
        {
            return socket.Receive(buffer);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
        {
            return -1;
        }
    }

    /// <summary>A virtio-net header (no offloads) and an IPv4/UDP datagram Peer → Local:5555; returns its length.</summary>
    private static int BuildUdp(byte[] record, int payloadLength) => BuildUdp(record, payloadLength, Peer, Local);

    /// <summary>
    /// A virtio-net header and an IPv4/UDP datagram <paramref name="source"/> → <paramref name="destination"/>:5555
    /// whose payload starts with <paramref name="sequence"/>; returns its length. With
    /// <paramref name="needsChecksum"/> the UDP checksum is left to the kernel (NEEDS_CSUM and the
    /// pseudo-header sum, as a TUN read gives a local socket's datagram), else it is complete
    /// (zero: none) and the header has no offloads.
    /// </summary>
    internal static int BuildUdp(byte[] record, int payloadLength, IPAddress source, IPAddress destination, bool needsChecksum = false, ushort identification = 0, int sequence = 0)
    {
        var span = record.AsSpan();
        if (needsChecksum)
        {
            VirtioNetHeader.Write(span, VirtioNetHeaderFlags.NeedsChecksum, VirtioNetGsoType.None, 0, 0, 20, UdpHeader.ChecksumFieldOffset);
        }
        else
        {
            VirtioNetHeader.WriteNone(span);
        }

        var ip = span[VirtioNetHeader.Size..];
        int total = 20 + 8 + payloadLength;
        ip[..28].Clear();
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)total);
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], identification);
        ip[6] = 0x40;
        ip[8] = 64;
        ip[9] = 17;
        source.TryWriteBytes(ip[12..16], out _);
        destination.TryWriteBytes(ip[16..20], out _);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Checksum.Compute(ip[..20]));
        BinaryPrimitives.WriteUInt16BigEndian(ip[20..], 40000);
        BinaryPrimitives.WriteUInt16BigEndian(ip[22..], 5555);
        BinaryPrimitives.WriteUInt16BigEndian(ip[24..], (ushort)(8 + payloadLength));
        ip.Slice(28, payloadLength).Fill(0x5a);
        if (payloadLength >= 4)
        {
            BinaryPrimitives.WriteInt32BigEndian(ip[28..], sequence);
        }

        if (needsChecksum)
        {
            ushort pseudo = Checksum.PseudoHeaderSumV4(ip[12..16], ip[16..20], IpProtocol.Udp, (ushort)(8 + payloadLength));
            BinaryPrimitives.WriteUInt16BigEndian(ip[26..], pseudo);
        }

        return VirtioNetHeader.Size + total;
    }

    [LibraryImport("libc", EntryPoint = "mprotect", SetLastError = true)]
    private static partial int MProtect(nint address, nuint length, int protection);
}
