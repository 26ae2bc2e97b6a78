using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Xunit;

namespace XenVmc.Linux.Tests;

public class TunDeviceTests
{
    private const byte VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
    private const byte VIRTIO_NET_HDR_GSO_NONE = 0;

    [Fact]
    public void Open_CreatesTunWithVnetHeaderAndDefaultOffloads() => NetnsThread.Run(() =>
    {
        using TunDevice tun = TunDevice.Open("xvmc0", new TunOpenOptions());

        Assert.Equal("xvmc0", tun.Name);
        Assert.True(tun.IfIndex > 1);
        Assert.Equal(NetworkInterfaces.GetIndex("xvmc0"), tun.IfIndex);
        Assert.True(tun.VnetHeader);
        Assert.Equal(TunOffloads.Checksum | TunOffloads.Tso4 | TunOffloads.Tso6, tun.Offloads & ~(TunOffloads.Uso4 | TunOffloads.Uso6));
        // USO arrived in Linux 6.2; the probe must find it exactly when the kernel has it.
        Assert.Equal(Environment.OSVersion.Version >= new Version(6, 2), tun.UdpSegmentationOffload);

        // iproute2 as the witness of what the kernel made.
        var link = Assert.Single(Ip.Json("-d", "link", "show", "xvmc0"));
        var info = link.GetProperty("linkinfo");
        Assert.Equal("tun", info.GetProperty("info_kind").GetString());
        Assert.Equal("tun", info.GetProperty("info_data").GetProperty("type").GetString());
        Assert.False(info.GetProperty("info_data").GetProperty("pi").GetBoolean());
        Assert.True(info.GetProperty("info_data").GetProperty("vnet_hdr").GetBoolean());
        Assert.False(info.GetProperty("info_data").GetProperty("multi_queue").GetBoolean());
    });

    [Fact]
    public void Open_WithoutVnetHeader_HasNoOffloads() => NetnsThread.Run(() =>
    {
        using TunDevice tun = TunDevice.Open("xvmc0", new TunOpenOptions { VnetHeader = false });

        Assert.False(tun.VnetHeader);
        Assert.Equal(TunOffloads.None, tun.Offloads);
        Assert.False(tun.UdpSegmentationOffload);
        var info = Assert.Single(Ip.Json("-d", "link", "show", "xvmc0")).GetProperty("linkinfo").GetProperty("info_data");
        Assert.False(info.GetProperty("vnet_hdr").GetBoolean());
        Assert.Throws<ArgumentException>(() => TunDevice.Open("xvmc1", new TunOpenOptions { VnetHeader = false, Offloads = TunOffloads.Checksum }));
    });

    [Fact]
    public void Open_EmptyName_LetsTheKernelChoose() => NetnsThread.Run(() =>
    {
        using TunDevice tun = TunDevice.Open("", new TunOpenOptions());

        Assert.StartsWith("tun", tun.Name);
        Assert.Equal(NetworkInterfaces.GetIndex(tun.Name), tun.IfIndex);
    });

    [Fact]
    public void SetUpAndMtu_65520() => NetnsThread.Run(() =>
    {
        using TunDevice tun = TunDevice.Open("xvmc0", new TunOpenOptions());

        Assert.False(NetworkInterfaces.IsUp("xvmc0"));
        NetworkInterfaces.SetUp("xvmc0", true);
        NetworkInterfaces.SetMtu("xvmc0", 65520);

        Assert.True(NetworkInterfaces.IsUp("xvmc0"));
        Assert.Equal(65520, NetworkInterfaces.GetMtu("xvmc0"));
        var link = Assert.Single(Ip.Json("link", "show", "xvmc0"));
        Assert.Equal(65520, link.GetProperty("mtu").GetInt32());
        Assert.Contains("UP", link.GetProperty("flags").EnumerateArray().Select(f => f.GetString()));

        NetworkInterfaces.SetUp("xvmc0", false);
        Assert.False(NetworkInterfaces.IsUp("xvmc0"));
    });

    [Fact]
    public void SetOffloads_KnownBitsAccepted_UnknownBitRefusedWithEinval() => NetnsThread.Run(() =>
    {
        using TunDevice tun = TunDevice.Open("xvmc0", new TunOpenOptions());

        tun.SetOffloads(TunOffloads.Checksum);
        Assert.Equal(TunOffloads.Checksum, tun.Offloads);
        tun.SetOffloads(TunOffloads.Checksum | TunOffloads.Tso4 | TunOffloads.Tso6 | TunOffloads.TsoEcn);
        Assert.Equal(TunOffloads.Checksum | TunOffloads.Tso4 | TunOffloads.Tso6 | TunOffloads.TsoEcn, tun.Offloads);

        var e = Assert.Throws<LinuxException>(() => tun.SetOffloads(TunOffloads.Checksum | (TunOffloads)0x8000_0000));
        Assert.Equal(22, e.Errno);
        Assert.Equal("EINVAL", e.ErrnoName);
        Assert.Contains("'xvmc0'", e.Message);
        // A refused change leaves the previous offloads in force.
        Assert.Equal(TunOffloads.Checksum | TunOffloads.Tso4 | TunOffloads.Tso6 | TunOffloads.TsoEcn, tun.Offloads);
    });

    [Fact]
    public void Open_NameLongerThanIfnamsiz_IsRefusedBeforeTheKernelCutsIt() => NetnsThread.Run(() =>
    {
        var e = Assert.Throws<ArgumentException>(() => TunDevice.Open("xvmc-twenty-chars-00", new TunOpenOptions()));
        Assert.Contains("xvmc-twenty-chars-00", e.Message);
        Assert.Contains("IFNAMSIZ", e.Message);
        // Not even the first 15 bytes were created.
        Assert.Equal(["lo"], Ip.Json("link", "show").Select(l => l.GetProperty("ifname").GetString()));
    });

    [Fact]
    public void Open_NameTheKernelRejects_IsLinuxExceptionEinvalNamingIt() => NetnsThread.Run(() =>
    {
        var e = Assert.Throws<LinuxException>(() => TunDevice.Open("bad/name", new TunOpenOptions()));
        Assert.Equal("EINVAL", e.ErrnoName);
        Assert.StartsWith("attach or create TUN 'bad/name': ", e.Message);
        Assert.EndsWith("(EINVAL)", e.Message);
    });

    [Fact]
    public void Open_AttachesToPersistentDevice_AndSecondSingleQueueAttachIsBusy() => NetnsThread.Run(() =>
    {
        int ifIndex;
        using (TunDevice creator = TunDevice.Open("xvmc0", new TunOpenOptions()))
        {
            ifIndex = creator.IfIndex;
            creator.SetPersistent(true);
        }

        // Like systemd-networkd's .netdev: the device outlives its creator's fd and we attach to it.
        Assert.Equal(ifIndex, NetworkInterfaces.GetIndex("xvmc0"));
        using (TunDevice attached = TunDevice.Open("xvmc0", new TunOpenOptions()))
        {
            Assert.Equal(ifIndex, attached.IfIndex);
            var busy = Assert.Throws<LinuxException>(() => TunDevice.Open("xvmc0", new TunOpenOptions()));
            Assert.Equal("EBUSY", busy.ErrnoName);
            Assert.Contains("'xvmc0'", busy.Message);
            attached.SetPersistent(false);
        }

        var gone = Assert.Throws<LinuxException>(() => NetworkInterfaces.GetIndex("xvmc0"));
        Assert.Equal("ENODEV", gone.ErrnoName);
    });

    [Fact]
    public void Open_MultiQueue_AttachesSeveralQueues_AndMismatchIsEinval() => NetnsThread.Run(() =>
    {
        var options = new TunOpenOptions { MultiQueue = true };
        using TunDevice first = TunDevice.Open("xvmc0", options);
        using TunDevice second = TunDevice.Open("xvmc0", options);

        Assert.Equal(first.IfIndex, second.IfIndex);
        Assert.True(Assert.Single(Ip.Json("-d", "link", "show", "xvmc0")).GetProperty("linkinfo").GetProperty("info_data").GetProperty("multi_queue").GetBoolean());
        var e = Assert.Throws<LinuxException>(() => TunDevice.Open("xvmc0", new TunOpenOptions()));
        Assert.Equal("EINVAL", e.ErrnoName);
    });

    [Fact]
    public void Read_PacketSentByUdpSocketThroughRouteViaTun_ComesWithVnetHeader() => NetnsThread.Run(() =>
    {
        using RtNetlink rtnl = RtNetlink.Open();
        using TunDevice tun = TunTestKit.OpenUp(rtnl, "xvmcA", "198.18.0.1");
        rtnl.ReplaceRoute(new RouteSpec(IPAddress.Parse("198.18.0.2"), 32, tun.IfIndex, IPAddress.Parse("198.18.0.1"), Protocol: 86));
        byte[] payload = Encoding.ASCII.GetBytes("hello through the TUN");

        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.SendTo(payload, new IPEndPoint(IPAddress.Parse("198.18.0.2"), 7000));

        var buffer = new byte[TunDevice.MaxPacketSize];
        int n = TunTestKit.ReadMatching(tun, buffer, p => TunTestKit.IsUdpTo(p, IPAddress.Parse("198.18.0.2"), 7000));
        ReadOnlySpan<byte> vnet = buffer.AsSpan(0, TunDevice.VirtioNetHeaderSize);
        ReadOnlySpan<byte> ip = buffer.AsSpan(TunDevice.VirtioNetHeaderSize, n - TunDevice.VirtioNetHeaderSize);

        Assert.Equal(VIRTIO_NET_HDR_GSO_NONE, vnet[1]);
        if ((vnet[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM) != 0)
        {
            // CHECKSUM_PARTIAL: the UDP checksum starts after the IPv4 header, its field is 6 bytes in.
            Assert.Equal(20, BinaryPrimitives.ReadUInt16LittleEndian(vnet[6..]));
            Assert.Equal(6, BinaryPrimitives.ReadUInt16LittleEndian(vnet[8..]));
        }

        Assert.Equal(20 + 8 + payload.Length, ip.Length);
        Assert.Equal(ip.Length, BinaryPrimitives.ReadUInt16BigEndian(ip[2..]));
        Assert.Equal(IPAddress.Parse("198.18.0.1"), new IPAddress(ip[12..16]));
        Assert.Equal(8 + payload.Length, BinaryPrimitives.ReadUInt16BigEndian(ip[24..]));
        Assert.Equal(payload, ip[28..].ToArray());
    });

    [Fact]
    public void Write_WellFormedPacketWithZeroVnetHeader_IsDeliveredToLocalSocket() => NetnsThread.Run(() =>
    {
        using RtNetlink rtnl = RtNetlink.Open();
        using TunDevice tunA = TunTestKit.OpenUp(rtnl, "xvmcA", "198.18.0.1");
        using TunDevice tunB = TunTestKit.OpenUp(rtnl, "xvmcB", "198.18.1.1", 24);
        using var socket = BoundUdpSocket("198.18.1.1", 7001);
        byte[] payload = Encoding.ASCII.GetBytes("written into the TUN");
        byte[] packet = [.. new byte[TunDevice.VirtioNetHeaderSize], .. Ipv4Udp("198.18.1.2", 40000, "198.18.1.1", 7001, payload)];

        int written = tunB.Write(packet);

        Assert.Equal(packet.Length, written);
        var received = new byte[256];
        EndPoint from = new IPEndPoint(IPAddress.Any, 0);
        int n = socket.ReceiveFrom(received, ref from);
        Assert.Equal(payload, received[..n]);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("198.18.1.2"), 40000), from);
    });

    [Fact]
    public void Write_TwoParts_ArriveAsOnePacket() => NetnsThread.Run(() =>
    {
        using RtNetlink rtnl = RtNetlink.Open();
        using TunDevice tun = TunTestKit.OpenUp(rtnl, "xvmcB", "198.18.1.1", 24);
        using var socket = BoundUdpSocket("198.18.1.1", 7002);
        byte[] payload = new byte[1000];
        Random.Shared.NextBytes(payload);
        byte[] headers = [.. new byte[TunDevice.VirtioNetHeaderSize], .. TestPackets.Ipv4UdpHeaders(
            new IPEndPoint(IPAddress.Parse("198.18.1.2"), 40001), new IPEndPoint(IPAddress.Parse("198.18.1.1"), 7002), payload)];

        int written = tun.Write(headers, payload);

        Assert.Equal(headers.Length + payload.Length, written);
        var received = new byte[2048];
        int n = socket.Receive(received);
        Assert.Equal(payload, received[..n]);
    });

    [Fact]
    public void Write_WhileLinkDown_IsLinuxExceptionNamingTheDevice() => NetnsThread.Run(() =>
    {
        using TunDevice tun = TunDevice.Open("xvmc0", new TunOpenOptions());
        byte[] packet = [.. new byte[TunDevice.VirtioNetHeaderSize], .. Ipv4Udp("198.18.1.2", 1, "198.18.1.1", 2, [1, 2, 3])];

        var e = Assert.Throws<LinuxException>(() => tun.Write(packet));

        Assert.Equal("EIO", e.ErrnoName);
        Assert.StartsWith("write to TUN 'xvmc0': ", e.Message);
    });

    [Fact]
    public void Read_NonBlockingWithNothingQueued_ReturnsMinusOne() => NetnsThread.Run(() =>
    {
        using TunDevice tun = TunDevice.Open("xvmc0", new TunOpenOptions { NonBlocking = true });

        Assert.Equal(-1, tun.Read(new byte[TunDevice.MaxPacketSize]));
    });

    [Fact]
    public void ForwardedPackets_CountInLinkStatistics_AndDataPathAllocatesNothing() => NetnsThread.Run(() =>
    {
        // tunB --(ip_forward)--> tunA: what the guest daemon's data path does, minus the ring.
        File.WriteAllText("/proc/sys/net/ipv4/ip_forward", "1");
        using RtNetlink rtnl = RtNetlink.Open();
        using TunDevice tunA = TunTestKit.OpenUp(rtnl, "xvmcA", "198.18.0.1");
        using TunDevice tunB = TunTestKit.OpenUp(rtnl, "xvmcB", "198.18.1.1", 24);
        rtnl.ReplaceRoute(new RouteSpec(IPAddress.Parse("198.18.0.2"), 32, tunA.IfIndex, Protocol: 86));
        byte[] payload = new byte[100];
        byte[] headers = [.. new byte[TunDevice.VirtioNetHeaderSize], .. TestPackets.Ipv4UdpHeaders(
            new IPEndPoint(IPAddress.Parse("198.18.1.2"), 40002), new IPEndPoint(IPAddress.Parse("198.18.0.2"), 7003), payload)];
        var buffer = new byte[TunDevice.MaxPacketSize];
        PollEntry[] entries = [new PollEntry(tunA.Handle, Poll.POLLIN)];
        IPAddress destination = IPAddress.Parse("198.18.0.2");
        var revents = new short[1];
        LinkStatistics beforeA = rtnl.GetLinkStatistics("xvmcA");
        LinkStatistics beforeB = rtnl.GetLinkStatistics(tunB.IfIndex);

        int Forward()
        {
            tunB.Write(headers, payload);
            while (true)
            {
                if (Poll.Wait(entries, revents, 5000) != 1)
                {
                    throw new TimeoutException("forwarded packet did not reach xvmcA");
                }
                int n = tunA.Read(buffer);
                if (n > 0 && TunTestKit.IsUdpTo(buffer.AsSpan(TunDevice.VirtioNetHeaderSize, n - TunDevice.VirtioNetHeaderSize), destination, 7003))
                {
                    return n;
                }
            }
        }

        Assert.Equal(headers.Length + payload.Length, Forward()); // warm up: JIT, first-use allocations
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            Forward();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - allocated);
        LinkStatistics afterA = rtnl.GetLinkStatistics("xvmcA");
        LinkStatistics afterB = rtnl.GetLinkStatistics(tunB.IfIndex);
        Assert.True(afterB.RxPackets - beforeB.RxPackets >= 101, $"rx on B {beforeB} -> {afterB}");
        Assert.True(afterB.RxBytes - beforeB.RxBytes >= 101 * 128, $"rx bytes on B {beforeB} -> {afterB}");
        Assert.True(afterA.TxPackets - beforeA.TxPackets >= 101, $"tx on A {beforeA} -> {afterA}");
        Assert.True(afterA.TxBytes - beforeA.TxBytes >= 101 * 128, $"tx bytes on A {beforeA} -> {afterA}");
    });

    [Fact]
    public void DevicesCreatedInTestNamespaces_NeverAppearInTheHostNamespace()
    {
        NetnsThread.Run(() =>
        {
            using TunDevice tun = TunDevice.Open("xvmcleak0", new TunOpenOptions());
            tun.SetPersistent(true); // even a persistent device dies with its namespace
        });

        var e = Assert.Throws<LinuxException>(() => NetworkInterfaces.GetIndex("xvmcleak0"));
        Assert.Equal("ENODEV", e.ErrnoName);
    }

    private static byte[] Ipv4Udp(string source, int sourcePort, string destination, int destinationPort, byte[] payload) =>
        TestPackets.Ipv4Udp(
            new IPEndPoint(IPAddress.Parse(source), sourcePort), new IPEndPoint(IPAddress.Parse(destination), destinationPort), payload);

    private static Socket BoundUdpSocket(string address, int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 5000 };
        socket.Bind(new IPEndPoint(IPAddress.Parse(address), port));
        return socket;
    }
}
