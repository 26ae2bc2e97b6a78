using System.Net.Sockets;
using XenVmc.XenStore.Server;

namespace XenVmc.XenStore.Tests;

/// <summary>Domain sockets from INTRODUCE to RELEASE, the special watches, and cleanup.</summary>
public sealed class StoreServerTests
{
    [Fact]
    public async Task Introduce_creates_the_domain_socket_and_release_removes_it()
    {
        await using TestStore store = await TestStore.StartAsync();
        XenStoreClient dom0 = store.Dom0();
        XenStoreClient watcher = store.Dom0();
        await using XsWatch introduced = await watcher.WatchAsync("@introduceDomain", "i");
        await using XsWatch released = await watcher.WatchAsync("@releaseDomain", "r");
        Assert.Equal("@introduceDomain", await XsWatchTests.Next(introduced));
        Assert.Equal("@releaseDomain", await XsWatchTests.Next(released));

        Assert.False(File.Exists(store.DomainSocket(5)));
        XenStoreClient guest = await store.IntroduceGuestAsync(dom0, 5);
        Assert.Equal("@introduceDomain", await XsWatchTests.Next(introduced));
        Assert.True(File.Exists(store.DomainSocket(5)));
        Assert.True(await dom0.IsDomainIntroducedAsync(5));

        // The socket's connections are domain 5: relative paths land in its home.
        await guest.WriteAsync("data/hello", "from 5");
        Assert.Equal("from 5", await dom0.ReadStringAsync("/local/domain/5/data/hello"));

        // Introducing again fires nothing and keeps the socket.
        await dom0.IntroduceAsync(5, 0x1234, 1);
        await dom0.ReleaseAsync(5);
        Assert.Equal("@releaseDomain", await XsWatchTests.Next(released));
        Assert.False(introduced.Events.TryRead(out _));
        Assert.False(File.Exists(store.DomainSocket(5)));
        Assert.False(await dom0.IsDomainIntroducedAsync(5));
        await Assert.ThrowsAsync<XenStoreConnectionException>(() => guest.Closed.WaitAsync(TimeSpan.FromSeconds(10)));

        // Nodes the domain owned went with it (xenstored deletes orphans); Dom0's stay.
        Assert.Null(await dom0.TryReadStringAsync("/local/domain/5/data"));
        Assert.Equal("", await dom0.ReadStringAsync("/local/domain/5"));
        Assert.Throws<XenStoreConnectionException>(() => XenStoreClient.ConnectSocket(store.DomainSocket(5)));
        Assert.Equal(XsError.ENOENT, (await Assert.ThrowsAsync<XenStoreException>(() => dom0.ReleaseAsync(5))).Error);
    }

    [Fact]
    public async Task A_released_domain_id_reused_does_not_inherit_old_grants()
    {
        await using TestStore store = await TestStore.StartAsync();
        XenStoreClient dom0 = store.Dom0();
        await store.IntroduceGuestAsync(dom0, 5);
        await dom0.WriteAsync("/shared/for5", "x");
        await dom0.SetPermissionsAsync("/shared/for5", [new XsPermission(XsAccess.None, 0), new XsPermission(XsAccess.Read, 5)]);
        Assert.Equal("x", await store.Domain(5).ReadStringAsync("/shared/for5"));

        await dom0.ReleaseAsync(5);
        await dom0.IntroduceAsync(5, 1, 1);
        XenStoreException e = await Assert.ThrowsAsync<XenStoreException>(() => store.Domain(5).ReadAsync("/shared/for5"));
        Assert.Equal(XsError.EACCES, e.Error);
    }

    [Fact]
    public async Task Dispose_removes_its_sockets_and_the_directory_it_made()
    {
        TestStore store = await TestStore.StartAsync();
        XenStoreClient dom0 = store.Dom0();
        await store.IntroduceGuestAsync(dom0, 3);
        await store.IntroduceGuestAsync(dom0, 4);
        Assert.True(File.Exists(store.SocketPath));
        await store.Server.DisposeAsync();
        Assert.True(store.Server.Completion.IsCompletedSuccessfully);
        Assert.False(File.Exists(store.SocketPath));
        Assert.False(File.Exists(store.DomainSocket(3)));
        Assert.False(Directory.Exists(store.Options.DomainSocketDirectory));
        await store.DisposeAsync();
    }

    [Fact]
    public async Task A_stale_socket_file_is_replaced()
    {
        string directory = Path.Combine(Path.GetTempPath(), "xs-stale-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        try
        {
            string path = Path.Combine(directory, "socket");
            using (var old = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
            {
                old.Bind(new UnixDomainSocketEndPoint(path));
            }

            var options = new StoreOptions { SocketPath = path, DomainSocketDirectory = Path.Combine(directory, "d") };
            await using StoreServer server = await StoreServer.StartAsync(options);
            await using XenStoreClient client = XenStoreClient.ConnectSocket(path);
            Assert.Equal(["tool"], await client.DirectoryAsync("/"));

            // A second store does not steal a live socket.
            IOException e = await Assert.ThrowsAsync<IOException>(() => StoreServer.StartAsync(options));
            Assert.Contains("in use", e.Message);
            Assert.Equal(["tool"], await client.DirectoryAsync("/"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Default_domain_directory_is_beside_the_socket()
    {
        Assert.Equal("/run/x/domains", new StoreOptions { SocketPath = "/run/x/socket" }.DomainSocketDirectory);
        Assert.Equal("/elsewhere", new StoreOptions { SocketPath = "/run/x/socket", DomainSocketDirectory = "/elsewhere" }.DomainSocketDirectory);
        var defaults = new StoreQuotas();
        Assert.Equal((1000, 128, 10, 2048, 5, 20), (defaults.Nodes, defaults.Watches, defaults.Transactions, defaults.NodeSize, defaults.PermissionsPerNode, defaults.OutstandingRequests));
    }
}
