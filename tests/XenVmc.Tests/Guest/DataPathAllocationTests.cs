using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using XenVmc.Guest;
using XenVmc.Guest.Channels;
using XenVmc.Guest.DataPath;
using XenVmc.Linux;
using XenVmc.Packets;
using XenVmc.Platform.Layout;
using XenVmc.Rings;
using XenVmc.Tests.Support;
using XenVmc.Linux.Tests;

namespace XenVmc.Tests.Guest;

/// <summary>
/// The per-packet path allocates nothing: a real TUN in a private network namespace, a real
/// channel on the simulated host, and the data thread's own pass (TUN read → parse → ring, and
/// ring → check → TUN writev) run many times on one thread between two readings of
/// <see cref="GC.GetAllocatedBytesForCurrentThread"/>. Needs root (CAP_NET_ADMIN), as CI has.
/// </summary>
public sealed class DataPathAllocationTests : IAsyncLifetime
{
    private static readonly IPAddress Local = IPAddress.Parse("198.18.0.1");
    private static readonly IPAddress Peer = IPAddress.Parse("198.18.0.2");

    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(60));
    private SimHost _host = null!;

    public async Task InitializeAsync()
    {
        _host = await SimHost.StartAsync();
        await _host.CreateDomainAsync(1, _timeout.Token);
        await _host.CreateDomainAsync(2, _timeout.Token);
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        _timeout.Dispose();
    }

    [Fact]
    public async Task TunToRing_AndRingToTun_AllocateNothingPerPacket()
    {
        var context = _host.Guest(1);
        var offering = ChannelOffer.OfferAsync(context, 2, _timeout.Token);
        var accepting = ChannelAccept.AcceptAsync(_host.Guest(2), 1, _timeout.Token);
        await Task.WhenAll(offering, accepting).WaitAsync(TimeSpan.FromSeconds(10));
        var low = _host.Own(await offering);
        var high = _host.Own(await accepting);

        NetnsThread.Run(() => Run(context, low, high), timeoutMs: 50_000);
    }

    private static void Run(GuestContext context, Channel low, Channel high)
    {
        using var rtnl = RtNetlink.Open();
        using var tun = TunDevice.Open("vmc0", new TunOpenOptions { NonBlocking = true });
        rtnl.SetLinkUp(tun.IfIndex, true);
        rtnl.AddAddress(tun.IfIndex, Local, 32);
        rtnl.ReplaceRoute(new RouteSpec(Peer, 32, tun.IfIndex, Local, 86));

        using var dataPath = new GuestDataPath(tun, new RouteManager(RtNetlink.Open(), tun.IfIndex, 86), new GuestLog(NullLogger.Instance));
        dataPath.SetLocalAddresses([Local]);
        var link = new PeerLink(context, dataPath, new PeerTableEntry(2, [Peer], ""));
        link.AttachForTest(low);
        dataPath.Publish(link);
        dataPath.StartReceiving(link);

        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        sender.Bind(new IPEndPoint(Local, 0));
        using var receiver = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        receiver.Bind(new IPEndPoint(Local, 5555));
        receiver.ReceiveBufferSize = 4 << 20;
        receiver.Blocking = false;

        byte[] tunBuffer = GC.AllocateUninitializedArray<byte>(TunDevice.MaxPacketSize + 1, pinned: true);
        byte[] rxBuffer = GC.AllocateUninitializedArray<byte>(ChannelNodes.MaxRecordPayload, pinned: true);
        byte[] payload = new byte[1472];
        byte[] record = new byte[VirtioNetHeader.Size + 20 + 8 + payload.Length];
        byte[] sink = new byte[2048];

        // Warm-up rounds take JIT and tiering out of the measurement; only the later rounds count.
        long txAllocated = 0, rxAllocated = 0, forwarded = 0, delivered = 0, ringRecords = 0, socketDatagrams = 0;
        for (int round = 0; round < 60; round++)
        {
            bool measured = round >= 10;

            // TUN → ring: the kernel routes datagrams to the peer into the TUN; the daemon's reader step takes them.
            for (int i = 0; i < 200; i++)
            {
                sender.SendTo(payload.AsSpan(0, 1 + ((round * 200 + i) * 37 % payload.Length)), SocketFlags.None, new IPEndPoint(Peer, 9));
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
            int queued = 0;
            for (int i = 0; i < 200; i++)
            {
                int length = BuildUdp(record, 1 + ((round * 200 + i) * 53 % payload.Length));
                if (high.Producer.TryWrite(record.AsSpan(0, length), default) != RingWriteStatus.Written)
                {
                    break;
                }

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

        // The work really happened: most datagrams crossed the ring, every ring record reached the TUN and a socket.
        Assert.True(forwarded >= 5_000, $"only {forwarded} packets read from the TUN");
        Assert.True(ringRecords >= forwarded * 9 / 10, $"{ringRecords} of {forwarded} packets reached the ring");
        Assert.Equal(10_000, delivered);
        Assert.True(socketDatagrams >= 9_000, $"only {socketDatagrams} of {delivered} datagrams written into the TUN reached the socket");
        Assert.Equal(0, link.Counters.RxBadSource + link.Counters.RxBadDestination + link.Counters.RxMalformedTotal + link.Counters.RxTunErrors);
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

    /// <summary>A virtio-net header (no offloads) and an IPv4/UDP datagram <paramref name="source"/> → <paramref name="destination"/>:5555; returns its length.</summary>
    internal static int BuildUdp(byte[] record, int payloadLength, IPAddress source, IPAddress destination)
    {
        var span = record.AsSpan();
        span[..VirtioNetHeader.Size].Clear();
        var ip = span[VirtioNetHeader.Size..];
        int total = 20 + 8 + payloadLength;
        ip[..28].Clear();
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)total);
        ip[8] = 64;
        ip[9] = 17;
        source.TryWriteBytes(ip[12..16], out _);
        destination.TryWriteBytes(ip[16..20], out _);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Checksum.Compute(ip[..20]));
        BinaryPrimitives.WriteUInt16BigEndian(ip[20..], 40000);
        BinaryPrimitives.WriteUInt16BigEndian(ip[22..], 5555);
        BinaryPrimitives.WriteUInt16BigEndian(ip[24..], (ushort)(8 + payloadLength));
        ip.Slice(28, payloadLength).Fill(0x5a);
        return VirtioNetHeader.Size + total;
    }

}
