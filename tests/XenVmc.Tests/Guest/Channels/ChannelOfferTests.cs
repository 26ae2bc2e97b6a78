using System.Buffers.Binary;
using XenVmc.Guest;
using XenVmc.Guest.Channels;
using XenVmc.Platform.Layout;
using XenVmc.Rings;
using XenVmc.Tests.Support;
using XenVmc.XenStore;

namespace XenVmc.Tests.Guest.Channels;

/// <summary>
/// The whole handshake on the simulated host (XenStore server + hypervisor): the lower domid
/// offers, the higher accepts, both get a working channel, and the XenStore nodes and mappings
/// are exactly as private as the design says.
/// </summary>
public sealed class ChannelOfferTests() : SimHostTests(TimeSpan.FromSeconds(30), 1, 2, 3)
{
    private const int Records = 10_000;

    [Fact]
    public async Task OfferAndAccept_ConnectAChannel_ThatCarriesRecordsBothWays()
    {
        var (low, high) = await ConnectAsync();

        Assert.Equal(ChannelSide.Low, low.Side);
        Assert.Equal(ChannelSide.High, high.Side);
        Assert.Equal((ushort)2, low.Peer);
        Assert.Equal((ushort)1, high.Peer);
        Assert.Equal(ChannelLiveness.Connected, low.Control.GetLive(ChannelSide.High));
        Assert.Equal(ChannelLiveness.Connected, high.Control.GetLive(ChannelSide.Low));

        var lowPump = Task.Factory.StartNew(() => Pump(low, seed: 1, peerSeed: 2), TaskCreationOptions.LongRunning);
        var highPump = Task.Factory.StartNew(() => Pump(high, seed: 2, peerSeed: 1), TaskCreationOptions.LongRunning);
        int[] lostWakeups = await Task.WhenAll(lowPump, highPump).WaitAsync(TimeSpan.FromSeconds(25));

        Assert.Equal([0, 0], lostWakeups);
        Assert.False(low.Producer.IsPeerCorrupt || low.Consumer.IsPeerCorrupt || high.Producer.IsPeerCorrupt || high.Consumer.IsPeerCorrupt);
    }

    [Fact]
    public async Task AnOfferWithoutEventChannel_PublishesPortZero_AndBothSidesPoll()
    {
        // The low side polls (as on Xen); the high side could bind, but port 0 means there is nothing to bind to.
        var offering = ChannelOffer.OfferAsync(Host.Guest(1, pollEvents: true), 2, Ct);
        var accepting = ChannelAccept.AcceptAsync(Host.Guest(2), 1, Ct);
        await Task.WhenAll(offering, accepting).WaitAsync(TimeSpan.FromSeconds(10));
        var low = Host.Own(await offering);
        var high = Host.Own(await accepting);

        Assert.Equal("0", await Host.Dom0.ReadStringAsync($"{XenVmcPaths.Channel(1, 2)}/{ChannelNodes.EventChannel}", default, Ct));
        Assert.True(low.Port.Polled && high.Port.Polled);
        Assert.False(high.Port.Wait(0));

        // Records cross without any notification.
        Assert.Equal(RingWriteStatus.Written, low.Producer.TryWrite([1, 2], [3]));
        Assert.Equal(RingReadStatus.Record, high.Consumer.TryRead(out var record));
        Assert.Equal([1, 2, 3], record.Payload.ToArray());
        high.Consumer.Release();
    }

    [Fact]
    public async Task OfferNodes_AreReadableByThePeerOnly_AndTheAnswerToo()
    {
        var (low, _) = await ConnectAsync();
        string offer = XenVmcPaths.Channel(1, 2);
        string answer = XenVmcPaths.Channel(2, 1) + "/" + ChannelNodes.State;
        string[] leaves = [ChannelNodes.ControlRef, ChannelNodes.Ring0Refs, ChannelNodes.Ring1Refs, ChannelNodes.EventChannel, ChannelNodes.State];

        Assert.Equal(leaves.Order(StringComparer.Ordinal), (await Host.Dom0.DirectoryAsync(offer, default, Ct)).Order(StringComparer.Ordinal));
        foreach (string leaf in leaves)
        {
            Assert.Equal(["n1", "r2"], await PermsAsync($"{offer}/{leaf}"));
        }

        Assert.Equal(["n2", "r1"], await PermsAsync(answer));
        Assert.Equal(XenVmcPaths.Offered, await Host.Dom0.ReadStringAsync($"{offer}/{ChannelNodes.State}", default, Ct));
        Assert.Equal(XenVmcPaths.Connected, await Host.Dom0.ReadStringAsync(answer, default, Ct));
        Assert.Equal(low.Port.LocalPort.ToString(System.Globalization.CultureInfo.InvariantCulture), await Host.Dom0.ReadStringAsync($"{offer}/{ChannelNodes.EventChannel}", default, Ct));

        // The peer reads them; a third co-resident domain cannot, not even one leaf.
        var peer = Host.DomainStore(2);
        Assert.Equal(XenVmcPaths.Offered, await peer.ReadStringAsync($"{offer}/{ChannelNodes.State}", default, Ct));
        var third = Host.DomainStore(3);
        foreach (string leaf in leaves)
        {
            await AssertEaccesAsync(() => third.ReadStringAsync($"{offer}/{leaf}", default, Ct));
        }

        await AssertEaccesAsync(() => third.ReadStringAsync(answer, default, Ct));

        // Nor can it map the pages the refs name.
        string[] refs = (await peer.ReadStringAsync($"{offer}/{ChannelNodes.Ring1Refs}", default, Ct)).Split(' ');
        var thirdHypervisor = Host.HypervisorClient(3);
        var e = Assert.Throws<XenVmc.Linux.LinuxException>(() => thirdHypervisor.Map(1, [.. refs.Select(uint.Parse)], writable: false));
        Assert.Equal(1, e.Errno); // EPERM
    }

    [Fact]
    public async Task HighSide_MapsTheRingItOnlyReads_ReadOnly()
    {
        await ConnectAsync();
        string offer = XenVmcPaths.Channel(1, 2);
        uint ring0 = uint.Parse((await Host.Dom0.ReadStringAsync($"{offer}/{ChannelNodes.Ring0Refs}", default, Ct)).Split(' ')[0]);
        uint ring1 = uint.Parse((await Host.Dom0.ReadStringAsync($"{offer}/{ChannelNodes.Ring1Refs}", default, Ct)).Split(' ')[0]);
        uint control = uint.Parse(await Host.Dom0.ReadStringAsync($"{offer}/{ChannelNodes.ControlRef}", default, Ct));

        // Both domains live in this process: each granted file is mapped once by the granter, once by the grantee.
        Assert.Equal(["r--s", "rw-s"], ProcMaps.PermissionsOfFile(GrantFile(1, ring0)));
        Assert.Equal(["rw-s", "rw-s"], ProcMaps.PermissionsOfFile(GrantFile(1, ring1)));
        Assert.Equal(["rw-s", "rw-s"], ProcMaps.PermissionsOfFile(GrantFile(1, control)));
    }

    [Fact]
    public async Task DisposingTheChannels_UnmapsEverything_AndEndsTheGrants()
    {
        var (low, high) = await ConnectAsync(own: false);
        string[] files = Directory.GetFiles(Host.SharedMemoryDirectory);
        Assert.Equal(3, files.Length);

        high.Dispose();
        Assert.Equal(ChannelLiveness.Gone, low.Control.GetLive(ChannelSide.High));
        Assert.True(low.Port.Wait(2000), "the high side's goodbye notify (or the port closing) wakes the low side");
        low.Dispose();

        Assert.Empty(Directory.GetFiles(Host.SharedMemoryDirectory));
        foreach (string file in files)
        {
            Assert.Empty(ProcMaps.PermissionsOfFile(file));
        }
    }

    [Fact]
    public async Task Offer_WaitsForTheAnswer_AndCanBeCancelled()
    {
        var low = Host.Guest(1);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var offering = ChannelOffer.OfferAsync(low, 2, cancel.Token);
        await Eventually.AssertAsync(
            async () => await Host.Dom0.TryReadStringAsync(XenVmcPaths.Channel(1, 2) + "/" + ChannelNodes.State, default, Ct) == XenVmcPaths.Offered,
            TimeSpan.FromSeconds(5),
            "the offer is published");
        await Task.Delay(300, Ct);
        Assert.False(offering.IsCompleted, "nobody answered yet");

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => offering.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Empty(Directory.GetFiles(Host.SharedMemoryDirectory)); // a cancelled offer ends its grants
    }

    private async Task<(Channel Low, Channel High)> ConnectAsync(bool own = true)
    {
        var low = Host.Guest(1);
        var high = Host.Guest(2);
        var offering = ChannelOffer.OfferAsync(low, 2, Ct);
        var accepting = ChannelAccept.AcceptAsync(high, 1, Ct);
        var both = Task.WhenAll(offering, accepting).WaitAsync(TimeSpan.FromSeconds(10));
        await both;
        // Channel.Dispose writes to the control page: a channel must be disposed exactly once.
        return own ? (Host.Own(await offering), Host.Own(await accepting)) : (await offering, await accepting);
    }

    /// <summary>
    /// One side's data path in miniature: sends <see cref="Records"/> records and receives as many,
    /// sleeping on the event port only after the ring protocol says it may. Returns how many waits
    /// timed out (a lost wakeup); throws if any record arrives wrong.
    /// </summary>
    private static int Pump(Channel channel, int seed, int peerSeed)
    {
        var producer = channel.Producer;
        var consumer = channel.Consumer;
        byte[] buffer = new byte[ChannelNodes.MaxRecordPayload];
        int sent = 0;
        int received = 0;
        int lostWakeups = 0;
        long deadline = Environment.TickCount64 + 20_000;
        while (sent < Records || received < Records)
        {
            Assert.True(Environment.TickCount64 < deadline, $"side {channel.Side}: sent {sent}, received {received} after 20 s");
            bool progress = false;
            bool full = false;
            bool wrote = false;
            while (sent < Records)
            {
                int length = RecordLength(sent);
                Fill(buffer.AsSpan(0, length), sent, seed);
                var status = producer.TryWrite(buffer.AsSpan(0, 10), buffer.AsSpan(10, length - 10));
                if (status == RingWriteStatus.Full)
                {
                    full = true;
                    break;
                }

                Assert.Equal(RingWriteStatus.Written, status);
                sent++;
                wrote = true;
            }

            if (wrote)
            {
                progress = true;
                if (producer.ConsumerNeedsNotify())
                {
                    channel.Port.Notify();
                }
            }

            bool read = false;
            while (received < Records)
            {
                var status = consumer.TryRead(out var record);
                if (status == RingReadStatus.Empty)
                {
                    break;
                }

                Assert.Equal(RingReadStatus.Record, status);
                Verify(record.Payload, received, peerSeed);
                received++;
                read = true;
            }

            if (read)
            {
                progress = true;
                if (consumer.Release())
                {
                    channel.Port.Notify();
                }
            }

            if (progress)
            {
                continue;
            }

            bool sleep = true;
            if (received < Records && !consumer.PrepareToSleep())
            {
                sleep = false;
            }

            if (sleep && full && !producer.PrepareToWaitForSpace(RecordLength(sent)))
            {
                sleep = false;
            }

            if (sleep && !channel.Port.Wait(5000))
            {
                lostWakeups++;
            }
        }

        return lostWakeups;
    }

    /// <summary>Lengths from a virtio-net header's 10 bytes up to a 64 KiB super-packet, so records wrap and the ring fills.</summary>
    private static int RecordLength(int index) => index % 97 == 0 ? 65_000 + (index % 536) : 10 + (index * 7919 % 3000);

    private static void Fill(Span<byte> record, int index, int seed)
    {
        BinaryPrimitives.WriteInt32LittleEndian(record, index);
        for (int i = 4; i < record.Length; i++)
        {
            record[i] = (byte)((index * 31) + (i * 7) + seed);
        }
    }

    private static void Verify(ReadOnlySpan<byte> payload, int index, int seed)
    {
        if (payload.Length != RecordLength(index) || BinaryPrimitives.ReadInt32LittleEndian(payload) != index)
        {
            Assert.Fail($"record {index}: {payload.Length} bytes, numbered {(payload.Length >= 4 ? BinaryPrimitives.ReadInt32LittleEndian(payload) : -1)}");
        }

        for (int i = 4; i < payload.Length; i++)
        {
            if (payload[i] != (byte)((index * 31) + (i * 7) + seed))
            {
                Assert.Fail($"record {index}: byte {i} is {payload[i]}");
            }
        }
    }

    private string GrantFile(ushort granter, uint firstRef) => Path.Combine(Host.SharedMemoryDirectory, $"d{granter}-g{firstRef}");

    private async Task<string[]> PermsAsync(string path) =>
        [.. (await Host.Dom0.GetPermissionsAsync(path, default, Ct)).Select(p => p.ToString())];

    private static async Task AssertEaccesAsync(Func<Task> action)
    {
        var e = await Assert.ThrowsAsync<XenStoreException>(action);
        Assert.Equal(XsError.EACCES, e.Error);
    }
}
