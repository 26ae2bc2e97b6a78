using System.Globalization;
using XenVmc.Guest.Channels;
using XenVmc.Linux;
using XenVmc.Platform;
using XenVmc.Platform.Layout;
using XenVmc.Rings;
using XenVmc.Tests.Support;
using XenVmc.XenStore;

namespace XenVmc.Tests.Guest.Channels;

/// <summary>
/// The higher domid facing a hostile lower one: an offer that does not parse is refused and
/// logged while the acceptor keeps waiting; a control page that breaks the layout is a
/// <see cref="PeerProtocolException"/>, and nothing the acceptor mapped stays mapped.
/// </summary>
public sealed class ChannelAcceptTests() : SimHostTests(TimeSpan.FromSeconds(30), 1, 2)
{
    private const string Refused = "channel offer at /local/domain/1/data/xenvmc/channel/2 refused";

    public static TheoryData<string, string?, string?, string?, string?> GarbageOffers => new()
    {
        { "control ref not a number", "abc", "8 9", "10 11", "3" },
        { "control ref beyond 32 bits", "4294967296", "8 9", "10 11", "3" },
        { "ring refs not a power of two", "8", "9 10 11", "12 13", "3" },
        { "too many ring refs", "8", string.Join(' ', Enumerable.Repeat("8", 512)), "12 13", "3" },
        { "negative ring ref", "8", "-9 10", "12 13", "3" },
        { "empty ring refs", "8", "", "12 13", "3" },
        { "ring refs missing", "8", null, "12 13", "3" },
        { "port not a number", "8", "9 10", "12 13", "0x3" },
        { "port with a sign", "8", "9 10", "12 13", "+3" },
    };

    [Theory]
    [MemberData(nameof(GarbageOffers))]
    public async Task GarbageOffer_IsRefusedAndLogged_AndTheAcceptorKeepsWaiting(string what, string? controlRef, string? ring0, string? ring1, string? port)
    {
        var low = Host.DomainStore(1);
        await PublishAsync(low, controlRef, ring0, ring1, port);
        var high = Host.Guest(2);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var started = DateTime.UtcNow;

        var accepting = ChannelAccept.AcceptAsync(high, 1, cancel.Token);

        await Eventually.AssertAsync(() => Host.Logger.Count(Refused) > 0, TimeSpan.FromSeconds(3), $"{what}: the refusal is logged");
        var left = TimeSpan.FromSeconds(1) - (DateTime.UtcNow - started);
        if (left > TimeSpan.Zero)
        {
            await Task.Delay(left, Ct);
        }

        Assert.False(accepting.IsCompleted, $"{what}: AcceptAsync ended ({accepting.Status}) instead of waiting for a usable offer");
        Assert.Null(await Host.Dom0.TryReadStringAsync(XenVmcPaths.Channel(2, 1) + "/" + ChannelNodes.State, default, Ct));
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => accepting.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task GarbageOffer_ThenAGoodOne_Connects()
    {
        var lowStore = Host.DomainStore(1);
        await PublishAsync(lowStore, "x", "y", "z", "0");
        var high = Host.Guest(2);
        var accepting = ChannelAccept.AcceptAsync(high, 1, Ct);
        await Eventually.AssertAsync(() => Host.Logger.Count(Refused) > 0, TimeSpan.FromSeconds(3), "the garbage is refused");

        // The real offer replaces the garbage (OfferAsync removes the directory first).
        var low = Host.Guest(1);
        var offering = ChannelOffer.OfferAsync(low, 2, Ct);
        await Task.WhenAll(offering, accepting).WaitAsync(TimeSpan.FromSeconds(10));

        Host.Own(await offering);
        Host.Own(await accepting);
    }

    public static TheoryData<string, int> BadControlPages => new()
    {
        { "wrong magic", 0 },
        { "wrong layout version", 1 },
        { "ring size out of range", 2 },
        { "ring size unlike the pages granted", 3 },
    };

    [Theory]
    [MemberData(nameof(BadControlPages))]
    public async Task BadControlPage_IsAPeerProtocolException_AndLeavesNothingMapped(string what, int corruption)
    {
        var (control, ring0, ring1, port) = GrantChannel(remote: 2);
        Corrupt(control, corruption);
        await PublishAsync(Host.DomainStore(1), Refs(control), Refs(ring0), Refs(ring1), Num(port.LocalPort));
        var high = Host.Guest(2);

        var e = await Assert.ThrowsAsync<PeerProtocolException>(() => ChannelAccept.AcceptAsync(high, 1, Ct).WaitAsync(TimeSpan.FromSeconds(5)));

        Assert.True(e.Peer == 1, $"{what}: blamed domain {e.Peer}");
        Assert.StartsWith("peer domain 1: ", e.Message);
        AssertOnlyGranterMaps(control, ring0, ring1);
        Assert.Null(await Host.Dom0.TryReadStringAsync(XenVmcPaths.Channel(2, 1) + "/" + ChannelNodes.State, default, Ct));
        Assert.Equal(0, Host.Logger.Count(Refused));
    }

    [Fact]
    public async Task OfferedPortReservedForAnotherDomain_FailsTheBind_AndLeavesNothingMapped()
    {
        await Host.CreateDomainAsync(3, Ct);
        var (control, ring0, ring1, port) = GrantChannel(remote: 3);
        ChannelControl.Initialize(new MemoryWindow(control.Address, control.Length), 19, 19);
        await PublishAsync(Host.DomainStore(1), Refs(control), Refs(ring0), Refs(ring1), Num(port.LocalPort));
        var high = Host.Guest(2);

        var e = await Assert.ThrowsAsync<LinuxException>(() => ChannelAccept.AcceptAsync(high, 1, Ct).WaitAsync(TimeSpan.FromSeconds(5)));

        Assert.Equal(22, e.Errno); // EINVAL, as Xen's EVTCHNOP_bind_interdomain answers
        AssertOnlyGranterMaps(control, ring0, ring1);
        Assert.Null(await Host.Dom0.TryReadStringAsync(XenVmcPaths.Channel(2, 1) + "/" + ChannelNodes.State, default, Ct));
    }

    [Fact]
    public async Task ReceiveRingGrantedWritable_IsStillMappedReadOnly()
    {
        // A lower domid may grant more than it must; the acceptor still maps what it only reads read-only.
        var hypervisor = Host.HypervisorClient(1);
        var control = Host.Own(hypervisor.Share(2, 1, writable: true));
        var ring0 = Host.Own(hypervisor.Share(2, 128, writable: true));
        var ring1 = Host.Own(hypervisor.Share(2, 128, writable: true));
        var port = Host.Own(hypervisor.BindUnbound(2));
        ChannelControl.Initialize(new MemoryWindow(control.Address, control.Length), 19, 19);
        await PublishAsync(Host.DomainStore(1), Refs(control), Refs(ring0), Refs(ring1), Num(port.LocalPort));
        var high = Host.Guest(2);

        var channel = Host.Own(await ChannelAccept.AcceptAsync(high, 1, Ct).WaitAsync(TimeSpan.FromSeconds(5)));

        Assert.Equal(["r--s", "rw-s"], ProcMaps.PermissionsOfFile(GrantFile(ring0)));
        Assert.Equal(["rw-s", "rw-s"], ProcMaps.PermissionsOfFile(GrantFile(ring1)));
        Assert.Equal(ChannelLiveness.Connected, channel.Control.GetLive(ChannelSide.High));
        Assert.True(port.Wait(2000), "the acceptor notifies once connected");
    }

    /// <summary>What a lower domid's OfferAsync allocates, done by hand so the test can spoil it.</summary>
    private (IGrantedRegion Control, IGrantedRegion Ring0, IGrantedRegion Ring1, IEventPort Port) GrantChannel(ushort remote)
    {
        var hypervisor = Host.HypervisorClient(1);
        var control = Host.Own(hypervisor.Share(2, 1, writable: true));
        var ring0 = Host.Own(hypervisor.Share(2, 128, writable: false));
        var ring1 = Host.Own(hypervisor.Share(2, 128, writable: true));
        var port = Host.Own(hypervisor.BindUnbound(remote));
        return (control, ring0, ring1, port);
    }

    private static unsafe void Corrupt(IGrantedRegion control, int corruption)
    {
        var window = new MemoryWindow(control.Address, control.Length);
        var page = new Span<byte>((void*)control.Address, control.Length);
        switch (corruption)
        {
            case 0:
                new Random(5).NextBytes(page[..64]);
                page[0] ^= 0x80; // never the magic by chance
                break;
            case 1:
                ChannelControl.Initialize(window, 19, 19);
                BitConverter.TryWriteBytes(page[ChannelLayout.VersionOffset..], 2u);
                break;
            case 2:
                ChannelControl.Initialize(window, 19, 19);
                BitConverter.TryWriteBytes(page[ChannelLayout.Ring0SizeLog2Offset..], 40u);
                break;
            default:
                ChannelControl.Initialize(window, 18, 19); // 2^18 bytes claimed, 128 pages (2^19) granted
                break;
        }
    }

    private void AssertOnlyGranterMaps(params IGrantedRegion[] regions)
    {
        foreach (var region in regions)
        {
            Assert.Equal(["rw-s"], ProcMaps.PermissionsOfFile(GrantFile(region)));
        }
    }

    /// <summary>Publishes offer leaves as domain 1, each readable by domain 2 only; null leaves out a leaf.</summary>
    private async Task PublishAsync(XenStoreClient low, string? controlRef, string? ring0, string? ring1, string? port)
    {
        string dir = XenVmcPaths.Channel(1, 2);
        XsPermission[] perms = [new(XsAccess.None, 1), new(XsAccess.Read, 2)];
        (string Leaf, string? Value)[] leaves =
        [
            (ChannelNodes.ControlRef, controlRef),
            (ChannelNodes.Ring0Refs, ring0),
            (ChannelNodes.Ring1Refs, ring1),
            (ChannelNodes.EventChannel, port),
            (ChannelNodes.State, XenVmcPaths.Offered),
        ];
        await low.TransactAsync(async tx =>
        {
            foreach (var (leaf, value) in leaves)
            {
                if (value is not null)
                {
                    await low.WriteAsync($"{dir}/{leaf}", value, tx, Ct);
                    await low.SetPermissionsAsync($"{dir}/{leaf}", perms, tx, Ct);
                }
            }
        }, Ct);
    }

    private string GrantFile(IGrantedRegion region) => Path.Combine(Host.SharedMemoryDirectory, $"d1-g{region.References[0]}");

    private static string Refs(IGrantedRegion region) => string.Join(' ', region.References.Select(Num));

    private static string Num(uint value) => value.ToString(CultureInfo.InvariantCulture);
}
