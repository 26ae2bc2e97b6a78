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
/// After a suspend and resume (Xen save/restore, migration) the pages a peer granted are not
/// behind our mappings any more, and touching them faults: on Xen the daemon died of it and the
/// guest kernel oopsed in gntdev's unmap notification. Here the high side's mappings of the
/// peer's pages are made PROT_NONE when the (injected) resume clock jumps, so any touch kills
/// the test process; the data path's real pass and the channel's release must not touch them.
/// </summary>
public sealed partial class ResumeTests : IAsyncLifetime
{
    private static readonly IPAddress Low = IPAddress.Parse("198.18.0.1");
    private static readonly IPAddress High = IPAddress.Parse("198.18.0.2");

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
    public async Task AfterAResume_TheHighSideNeverTouchesThePeersPages_AndAbandonsThem()
    {
        long sleptNs = 0;
        var resume = new ResumeEpoch(() => Volatile.Read(ref sleptNs));
        var context = _host.Guest(2, resume);
        var offering = ChannelOffer.OfferAsync(_host.Guest(1), 2, _timeout.Token);
        var accepting = ChannelAccept.AcceptAsync(context, 1, _timeout.Token);
        await Task.WhenAll(offering, accepting).WaitAsync(TimeSpan.FromSeconds(10));
        var low = _host.Own(await offering);
        var high = _host.Own(await accepting);
        Assert.Equal(0, high.Epoch);

        NetnsThread.Run(() => Run(context, resume, () => Volatile.Write(ref sleptNs, 4_000_000_000), low, high), timeoutMs: 50_000);
    }

    private static void Run(GuestContext context, ResumeEpoch resume, Action suspendAndResume, Channel low, Channel high)
    {
        using var rtnl = RtNetlink.Open();
        using var tun = TunDevice.Open("vmc0", new TunOpenOptions { NonBlocking = true });
        rtnl.SetLinkUp(tun.IfIndex, true);
        rtnl.AddAddress(tun.IfIndex, High, 32);
        rtnl.ReplaceRoute(new RouteSpec(Low, 32, tun.IfIndex, High, 86));

        using var dataPath = new GuestDataPath(tun, new RouteManager(RtNetlink.Open(), tun.IfIndex, 86), new GuestLog(NullLogger.Instance));
        dataPath.SetLocalAddresses([High]);
        var link = new PeerLink(context, dataPath, new PeerTableEntry(1, [Low], ""));
        link.AttachForTest(high);
        dataPath.Publish(link);
        dataPath.StartReceiving(link);

        using var sender = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        sender.Bind(new IPEndPoint(High, 0));
        byte[] tunBuffer = GC.AllocateUninitializedArray<byte>(TunDevice.MaxPacketSize + 1, pinned: true);
        byte[] rxBuffer = GC.AllocateUninitializedArray<byte>(ChannelNodes.MaxRecordPayload, pinned: true);
        byte[] record = new byte[2048];

        // Before: both directions work.
        sender.SendTo(new byte[100], new IPEndPoint(Low, 9));
        Assert.Equal(RingWriteStatus.Written, low.Producer.TryWrite(record.AsSpan(0, DataPathAllocationTests.BuildUdp(record, 100, Low, High)), default));
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
        Assert.Equal(RingWriteStatus.Written, low.Producer.TryWrite(record.AsSpan(0, DataPathAllocationTests.BuildUdp(record, 100, Low, High)), default));
        suspendAndResume();
        foreach (var region in high.Regions)
        {
            Assert.Equal(0, MProtect(region.Address, (nuint)region.Length, 0));
        }

        long notConnected = dataPath.Counters.NotConnected;
        for (int i = 0; i < 5; i++)
        {
            sender.SendTo(new byte[100], new IPEndPoint(Low, 9));
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

    [LibraryImport("libc", EntryPoint = "mprotect", SetLastError = true)]
    private static partial int MProtect(nint address, nuint length, int protection);
}
