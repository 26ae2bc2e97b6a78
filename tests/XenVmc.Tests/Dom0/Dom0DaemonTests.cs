using XenVmc.Dom0;
using XenVmc.Platform.Layout;
using XenVmc.Tests.Support;
using XenVmc.XenStore;

namespace XenVmc.Tests.Dom0;

/// <summary>
/// xenvmc-dom0 against an in-process XenStore server: it finds the guests from libxl's vif
/// backends, pairs those on a shared bridge, keeps each guest's table private to that guest,
/// and follows guests becoming ready, stopping and being released.
/// </summary>
public sealed class Dom0DaemonTests : IAsyncLifetime
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(2);

    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(30));
    private CancellationTokenSource _stop = new();
    private SimHost _host = null!;
    private Task _daemon = Task.CompletedTask;

    private CancellationToken Ct => _timeout.Token;

    public async Task InitializeAsync() => _host = await SimHost.StartAsync();

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _daemon.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (OperationCanceledException)
        {
        }

        await _host.DisposeAsync();
        _timeout.Dispose();
        _stop.Dispose();
    }

    [Fact]
    public async Task Tables_PairGuestsOnTheSameBridge_AndArePrivateToTheirGuest()
    {
        await CreateGuestAsync(1, "xenbr0", "198.18.0.1 fd00::1");
        await CreateGuestAsync(2, "xenbr0", "198.18.0.2 fd00::2");
        await CreateGuestAsync(3, "xenbr1", "198.18.1.3");

        StartDaemon();

        await Eventually.AssertAsync(() => HasPeerAsync(1, 2, "198.18.0.2 fd00::2"), Soon, "domain 1 lists domain 2");
        await Eventually.AssertAsync(() => HasPeerAsync(2, 1, "198.18.0.1 fd00::1"), Soon, "domain 2 lists domain 1");
        Assert.Equal(["2"], await PeersAsync(1));
        Assert.Equal(["1"], await PeersAsync(2));
        Assert.Empty(await PeersAsync(3));
        Assert.Equal(Mac(2), await _host.Dom0.ReadStringAsync(XenVmcPaths.PeerMac(1, 2), default, Ct));

        // Owned by Dom0, readable by the guest alone; the entries below inherit that.
        Assert.Equal(["n0", "r1"], await PermsAsync(XenVmcPaths.PeerTableRoot(1)));
        Assert.Equal(["n0", "r2"], await PermsAsync(XenVmcPaths.PeerTableRoot(2)));
        Assert.Equal(["n0", "r1"], await PermsAsync(XenVmcPaths.PeerAddresses(1, 2)));

        var guest1 = _host.DomainStore(1);
        var guest2 = _host.DomainStore(2);
        var guest3 = _host.DomainStore(3);
        Assert.Equal("198.18.0.2 fd00::2", await guest1.ReadStringAsync(XenVmcPaths.PeerAddresses(1, 2), default, Ct));
        await AssertEaccesAsync(() => guest2.ReadStringAsync(XenVmcPaths.PeerAddresses(1, 2), default, Ct));
        await AssertEaccesAsync(() => guest3.DirectoryAsync(XenVmcPaths.PeerTable(1), default, Ct));
        await AssertEaccesAsync(() => guest1.DirectoryAsync(XenVmcPaths.PeerTable(2), default, Ct));
        await AssertEaccesAsync(() => guest1.WriteAsync(XenVmcPaths.PeerAddresses(1, 3), "198.18.0.99", default, Ct));
        Assert.False(_daemon.IsCompleted);
    }

    [Fact]
    public async Task GuestStoppingStartingAndBeingReleased_ChangeTheOthersTables()
    {
        await CreateGuestAsync(1, "xenbr0", "198.18.0.1");
        await CreateGuestAsync(2, "xenbr0", "198.18.0.2");
        await CreateGuestAsync(4, "xenbr0", "198.18.0.4");
        StartDaemon();
        await Eventually.AssertAsync(async () => (await PeersAsync(1)).SequenceEqual(["2", "4"]), Soon, "domain 1 lists 2 and 4");

        // Domain 2's daemon stops: it withdraws its ready state.
        var guest2 = _host.DomainStore(2);
        await guest2.RmAsync(XenVmcPaths.GuestState(2), default, Ct);

        await Eventually.AssertAsync(async () => (await PeersAsync(1)).SequenceEqual(["4"]), Soon, "domain 2 leaves domain 1's table");
        await Eventually.AssertAsync(async () => (await PeersAsync(4)).SequenceEqual(["1"]), Soon, "domain 2 leaves domain 4's table");
        await Eventually.AssertAsync(async () => (await PeersAsync(2)).Count == 0, Soon, "a guest that is not ready has an empty table");

        // It starts again.
        await guest2.WriteAsync(XenVmcPaths.GuestState(2), XenVmcPaths.Ready, default, Ct);
        await Eventually.AssertAsync(async () => (await PeersAsync(1)).SequenceEqual(["2", "4"]), Soon, "domain 2 is back in domain 1's table");

        // Domain 1 is destroyed: the store releases it before the toolstack removes its nodes.
        await _host.Dom0.ReleaseAsync(1, Ct);

        await Eventually.AssertAsync(async () => (await PeersAsync(2)).SequenceEqual(["4"]), Soon, "released domain 1 leaves domain 2's table");
        await Eventually.AssertAsync(async () => (await PeersAsync(4)).SequenceEqual(["2"]), Soon, "released domain 1 leaves domain 4's table");
        Assert.False(_daemon.IsCompleted);
    }

    [Fact]
    public async Task GarbageBackendIp_IsIgnored_AndTheDaemonCarriesOn()
    {
        await CreateGuestAsync(1, "xenbr0", "198.18.0.1");
        await CreateGuestAsync(2, "xenbr0", "198.18.0.2");
        await CreateGuestAsync(5, "xenbr0", "not an ip");
        await CreateGuestAsync(6, "xenbr0", "198.18.0.6 127.0.0.1");
        StartDaemon();

        await Eventually.AssertAsync(async () => (await PeersAsync(1)).SequenceEqual(["2"]), Soon, "domains 1 and 2 pair");
        Assert.Equal(["1"], await PeersAsync(2));
        Assert.Empty(await PeersAsync(5));
        Assert.Empty(await PeersAsync(6));
        Assert.True(_host.Logger.Count("vif backend /local/domain/0/backend/vif/5/0 ignored") > 0, "the refusal is logged");

        // Still serving: fixing the address brings domain 5 in.
        await _host.Dom0.WriteAsync(XenVmcPaths.VifBackend(0, 5, 0) + "/ip", "198.18.0.5", default, Ct);
        await Eventually.AssertAsync(async () => (await PeersAsync(1)).SequenceEqual(["2", "5"]), Soon, "domain 5 joins once its ip is good");
        Assert.False(_daemon.IsCompleted);
    }

    [Fact]
    public async Task Restart_RemovesStaleEntries_AndRewritesNothingThatIsRight()
    {
        await CreateGuestAsync(1, "xenbr0", "198.18.0.1");
        await CreateGuestAsync(2, "xenbr0", "198.18.0.2");
        StartDaemon();
        await Eventually.AssertAsync(() => HasPeerAsync(1, 2, "198.18.0.2"), Soon, "domains 1 and 2 pair");
        await StopDaemonAsync();

        // Left behind by an earlier daemon: an entry for a domain that is gone.
        await _host.Dom0.WriteAsync(XenVmcPaths.PeerAddresses(1, 9), "198.18.0.9", default, Ct);
        var guest2 = _host.DomainStore(2);
        await using var watch = await guest2.WatchAsync(XenVmcPaths.PeerTableRoot(2), "t", Ct);
        Assert.True(await watch.Events.WaitToReadAsync(Ct)); // the event every new watch gets
        while (watch.Events.TryRead(out _))
        {
        }

        StartDaemon();

        await Eventually.AssertAsync(async () => (await PeersAsync(1)).SequenceEqual(["2"]), Soon, "the stale entry goes");
        await Task.Delay(300, Ct);
        Assert.False(watch.Events.TryRead(out string? path), $"domain 2's unchanged table was written again ({path})");

        // The watch itself works: a real write to the table reaches the guest.
        await _host.Dom0.WriteAsync(XenVmcPaths.PeerMac(2, 1), Mac(1), default, Ct);
        Assert.True(await watch.Events.WaitToReadAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(2), Ct));
    }

    private void StartDaemon()
    {
        var dom0 = _host.Own(XenStoreClient.ConnectSocket(_host.StoreOptions.SocketPath));
        var token = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, Ct).Token;
        _daemon = Task.Run(() => Dom0Daemon.RunAsync(dom0, _host.Logger, null, null, token));
    }

    private async Task StopDaemonAsync()
    {
        await _stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _daemon.WaitAsync(TimeSpan.FromSeconds(5)));
        _daemon = Task.CompletedTask;
        _stop.Dispose();
        _stop = new CancellationTokenSource();
    }

    /// <summary>A guest as libxl makes it with one vif, introduced, its daemon running (state ready, written by itself).</summary>
    private async Task CreateGuestAsync(ushort domid, string bridge, string ip)
    {
        await _host.CreateDomainAsync(domid, Ct);
        await _host.WriteVifAsync(domid, 0, bridge, ip, Mac(domid), online: true, Ct);
        var guest = _host.DomainStore(domid);
        await guest.WriteAsync(XenVmcPaths.GuestState(domid), XenVmcPaths.Ready, default, Ct);
    }

    private async Task<bool> HasPeerAsync(ushort domid, ushort peer, string ip) =>
        await _host.Dom0.TryReadStringAsync(XenVmcPaths.PeerAddresses(domid, peer), default, Ct) == ip;

    private async Task<IReadOnlyList<string>> PeersAsync(ushort domid)
    {
        try
        {
            return [.. (await _host.Dom0.DirectoryAsync(XenVmcPaths.PeerTable(domid), default, Ct)).Order(StringComparer.Ordinal)];
        }
        catch (XenStoreException e) when (e.Error == XsError.ENOENT)
        {
            return [];
        }
    }

    private async Task<string[]> PermsAsync(string path) =>
        [.. (await _host.Dom0.GetPermissionsAsync(path, default, Ct)).Select(p => p.ToString())];

    private static async Task AssertEaccesAsync(Func<Task> action)
    {
        var e = await Assert.ThrowsAsync<XenStoreException>(action);
        Assert.Equal(XsError.EACCES, e.Error);
    }

    private static string Mac(ushort domid) => $"00:16:3e:00:00:{domid:x2}";
}
