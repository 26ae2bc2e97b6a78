namespace XenVmc.XenStore.Tests;

/// <summary>The client against the simulated store over real unix sockets: every operation, and pipelining.</summary>
public sealed class XenStoreClientTests
{
    [Fact]
    public async Task Every_node_operation()
    {
        await using TestStore store = await TestStore.StartAsync();
        XenStoreClient c = store.Dom0();

        await c.WriteAsync("/vm/1/name", "guest");
        await c.WriteAsync("/vm/1/blob", new byte[] { 0, 1, 2, 255 });
        Assert.Equal("guest", await c.ReadStringAsync("/vm/1/name"));
        Assert.Equal(new byte[] { 0, 1, 2, 255 }, await c.ReadAsync("/vm/1/blob"));
        Assert.Equal("", await c.ReadStringAsync("/vm"));
        Assert.Null(await c.TryReadStringAsync("/vm/2"));
        Assert.Equal(["name", "blob"], await c.DirectoryAsync("/vm/1"));

        await c.MkdirAsync("/vm/1/dir");
        await c.MkdirAsync("/vm/1/dir"); // existing: fine
        Assert.Equal(["name", "blob", "dir"], await c.DirectoryAsync("/vm/1"));

        Assert.Equal([new XsPermission(XsAccess.None, 0)], await c.GetPermissionsAsync("/vm/1/name"));
        await c.SetPermissionsAsync("/vm/1/name", [new XsPermission(XsAccess.Read, 3), new XsPermission(XsAccess.Write, 4)]);
        Assert.Equal([new XsPermission(XsAccess.Read, 3), new XsPermission(XsAccess.Write, 4)], await c.GetPermissionsAsync("/vm/1/name"));
        Assert.Equal([new XsPermission(XsAccess.None, 0)], await c.GetPermissionsAsync("@introduceDomain"));

        await c.RmAsync("/vm/1");
        await c.RmAsync("/vm/1"); // missing with an existing parent: fine
        Assert.Empty(await c.DirectoryAsync("/vm"));
        var e = await Assert.ThrowsAsync<XenStoreException>(() => c.RmAsync("/nope/child"));
        Assert.Equal(XsError.ENOENT, e.Error);
        Assert.Equal("/nope/child", e.Path);
        Assert.Equal("XenStore RM '/nope/child' failed: ENOENT", e.Message);

        Assert.Equal("/local/domain/7", await c.GetDomainPathAsync(7));
        Assert.True(await c.IsDomainIntroducedAsync(0));
        Assert.False(await c.IsDomainIntroducedAsync(7));
        await Assert.ThrowsAsync<XenStoreException>(() => c.ReadAsync("/vm/1/name"));
    }

    [Fact]
    public async Task Hundreds_of_concurrent_requests_on_one_connection()
    {
        await using TestStore store = await TestStore.StartAsync();
        XenStoreClient c = store.Dom0();
        await Task.WhenAll(Enumerable.Range(0, 500).Select(i => c.WriteAsync($"/p/{i}", $"value-{i}")));
        string[] values = await Task.WhenAll(Enumerable.Range(0, 500).Select(i => c.ReadStringAsync($"/p/{i}")));
        Assert.Equal(Enumerable.Range(0, 500).Select(i => $"value-{i}"), values);

        // Mixed successes and failures, all matched to the right caller.
        Task<string?>[] mixed = Enumerable.Range(0, 400).Select(i => c.TryReadStringAsync(i % 2 == 0 ? $"/p/{i}" : $"/missing/{i}")).ToArray();
        string?[] results = await Task.WhenAll(mixed);
        for (int i = 0; i < results.Length; i++)
        {
            Assert.Equal(i % 2 == 0 ? $"value-{i}" : null, results[i]);
        }

        Assert.Equal(500, (await c.DirectoryAsync("/p")).Count);
    }

    [Fact]
    public async Task Several_clients_see_one_order_of_changes()
    {
        await using TestStore store = await TestStore.StartAsync();
        XenStoreClient[] clients = Enumerable.Range(0, 8).Select(_ => store.Dom0()).ToArray();
        await Task.WhenAll(clients.Select((c, n) => Task.WhenAll(Enumerable.Range(0, 100).Select(i => c.WriteAsync($"/multi/{n}/{i}", "x")))));
        foreach (XenStoreClient c in clients)
        {
            Assert.Equal(8, (await c.DirectoryAsync("/multi")).Count);
        }
    }

    [Fact]
    public async Task Dispose_fails_pending_calls_and_completes_Closed()
    {
        await using TestStore store = await TestStore.StartAsync();
        XenStoreClient c = XenStoreClient.ConnectSocket(store.SocketPath);
        await c.WriteAsync("/d", "1");
        XsWatch watch = await c.WatchAsync("/d", "t");
        await c.DisposeAsync();
        await c.Closed.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(c.Closed.IsCompletedSuccessfully);
        Assert.True(watch.Events.TryRead(out string? registration));
        Assert.Equal("/d", registration);
        await watch.Events.Completion.WaitAsync(TimeSpan.FromSeconds(5));
        await Assert.ThrowsAsync<XenStoreConnectionException>(() => c.ReadAsync("/d"));
        await watch.DisposeAsync();
    }

    [Fact]
    public async Task Store_shutdown_faults_Closed()
    {
        TestStore store = await TestStore.StartAsync();
        XenStoreClient c = XenStoreClient.ConnectSocket(store.SocketPath);
        await c.WriteAsync("/x", "1");
        await store.DisposeAsync();
        await Assert.ThrowsAsync<XenStoreConnectionException>(() => c.Closed.WaitAsync(TimeSpan.FromSeconds(10)));
        await Assert.ThrowsAsync<XenStoreConnectionException>(() => c.ReadAsync("/x"));
        await c.DisposeAsync();
    }

    [Fact]
    public async Task OpenDefault_uses_XENSTORED_PATH_when_it_is_a_socket()
    {
        await using TestStore store = await TestStore.StartAsync();
        string? saved = Environment.GetEnvironmentVariable("XENSTORED_PATH");
        try
        {
            Environment.SetEnvironmentVariable("XENSTORED_PATH", store.SocketPath);
            await using XenStoreClient c = XenStoreClient.OpenDefault();
            await c.WriteAsync("/default", "yes");
            Assert.Equal("yes", await store.Dom0().ReadStringAsync("/default"));
        }
        finally
        {
            Environment.SetEnvironmentVariable("XENSTORED_PATH", saved);
        }
    }

    [Fact]
    public void Connecting_to_nothing_names_the_path()
    {
        string path = Path.Combine(Path.GetTempPath(), "xs-none-" + Guid.NewGuid().ToString("N"));
        var e = Assert.Throws<XenStoreConnectionException>(() => XenStoreClient.ConnectSocket(path));
        Assert.Contains(path, e.Message);
        var d = Assert.Throws<XenStoreConnectionException>(() => XenStoreClient.OpenXenbus(path));
        Assert.Contains(path, d.Message);
    }
}
