namespace XenVmc.XenStore.Tests;

/// <summary>Transactions: snapshot reads, invisible writes, EAGAIN on conflict, events at commit, TransactAsync retries.</summary>
public sealed class StoreTransactionTests
{
    [Fact]
    public async Task Reads_see_the_snapshot_and_writes_stay_invisible_until_commit()
    {
        await using TestStore store = await TestStore.StartAsync();
        XenStoreClient a = store.Dom0();
        XenStoreClient b = store.Dom0();
        await a.WriteAsync("/t/x", "old");
        XsTransaction tx = await a.StartTransactionAsync();
        await b.WriteAsync("/t/x", "new"); // after the snapshot
        await b.WriteAsync("/t/y", "born");
        Assert.Equal("old", await a.ReadStringAsync("/t/x", tx));
        Assert.Null(await a.TryReadStringAsync("/t/y", tx));
        Assert.Equal("new", await a.ReadStringAsync("/t/x"));

        await a.WriteAsync("/t/z", "mine", tx);
        Assert.Equal("mine", await a.ReadStringAsync("/t/z", tx));
        Assert.Null(await b.TryReadStringAsync("/t/z"));
        Assert.Equal(["x", "z"], await a.DirectoryAsync("/t", tx));
        Assert.Equal(["x", "y"], await b.DirectoryAsync("/t"));

        // /t/x was read and has changed since the snapshot: the commit conflicts and nothing lands.
        Assert.False(await a.EndTransactionAsync(tx, commit: true));
        Assert.Null(await b.TryReadStringAsync("/t/z"));
        var gone = await Assert.ThrowsAsync<XenStoreException>(() => a.ReadAsync("/t/x", tx));
        Assert.Equal(XsError.ENOENT, gone.Error); // the transaction no longer exists
    }

    [Fact]
    public async Task Commit_applies_everything_and_fires_watches_only_then()
    {
        await using TestStore store = await TestStore.StartAsync();
        XenStoreClient a = store.Dom0();
        XenStoreClient watcher = store.Dom0();
        await a.WriteAsync("/c/old", "1");
        await using XsWatch watch = await watcher.WatchAsync("/c", "w");
        Assert.Equal("/c", await XsWatchTests.Next(watch));

        XsTransaction tx = await a.StartTransactionAsync();
        await a.WriteAsync("/c/new/deep", "2", tx);
        await a.RmAsync("/c/old", tx);
        await a.SetPermissionsAsync("/c", [new XsPermission(XsAccess.Read, 0)], tx);
        await watcher.WriteAsync("/elsewhere", "poke");
        Assert.False(watch.Events.TryRead(out string? early), $"event before commit: {early}");

        Assert.True(await a.EndTransactionAsync(tx, commit: true));
        Assert.Equal("2", await watcher.ReadStringAsync("/c/new/deep"));
        Assert.Null(await watcher.TryReadStringAsync("/c/old"));
        Assert.Equal(XsAccess.Read, (await watcher.GetPermissionsAsync("/c"))[0].Access);
        List<string> events = await XsWatchTests.Take(watch, 3);
        Assert.Equal(["/c", "/c/new/deep", "/c/old"], events.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Abort_discards_and_a_closed_connection_aborts()
    {
        await using TestStore store = await TestStore.StartAsync();
        XenStoreClient a = store.Dom0();
        XsTransaction tx = await a.StartTransactionAsync();
        await a.WriteAsync("/ab/x", "1", tx);
        Assert.True(await a.EndTransactionAsync(tx, commit: false));
        Assert.Null(await a.TryReadStringAsync("/ab/x"));

        XenStoreClient b = XenStoreClient.ConnectSocket(store.SocketPath);
        XsTransaction tb = await b.StartTransactionAsync();
        await b.WriteAsync("/ab/y", "1", tb);
        await b.DisposeAsync();
        Assert.Null(await a.TryReadStringAsync("/ab/y"));
    }

    [Fact]
    public async Task Concurrent_counters_with_TransactAsync_lose_no_increment()
    {
        await using TestStore store = await TestStore.StartAsync();
        XenStoreClient setup = store.Dom0();
        await setup.WriteAsync("/counter", "0");
        XenStoreClient[] clients = Enumerable.Range(0, 4).Select(_ => store.Dom0()).ToArray();
        int attempts = 0;
        await Task.WhenAll(clients.Select(c => Task.Run(async () =>
        {
            for (int i = 0; i < 25; i++)
            {
                await c.TransactAsync(async tx =>
                {
                    Interlocked.Increment(ref attempts);
                    int value = int.Parse(await c.ReadStringAsync("/counter", tx), System.Globalization.CultureInfo.InvariantCulture);
                    await Task.Yield();
                    await c.WriteAsync("/counter", (value + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), tx);
                });
            }
        })));

        Assert.Equal("100", await setup.ReadStringAsync("/counter"));
        Assert.True(attempts >= 100);
    }

    [Fact]
    public async Task TransactAsync_reruns_the_body_after_a_conflict()
    {
        await using TestStore store = await TestStore.StartAsync();
        XenStoreClient a = store.Dom0();
        XenStoreClient b = store.Dom0();
        await a.WriteAsync("/r", "0");
        int runs = 0;
        string result = await a.TransactAsync(async tx =>
        {
            runs++;
            string seen = await a.ReadStringAsync("/r", tx);
            if (runs == 1)
            {
                await b.WriteAsync("/r", "interfered"); // makes the first commit fail with EAGAIN
            }

            await a.WriteAsync("/r2", seen, tx);
            return seen;
        });
        Assert.Equal(2, runs);
        Assert.Equal("interfered", result);
        Assert.Equal("interfered", await b.ReadStringAsync("/r2"));
    }

    [Fact]
    public async Task TransactAsync_aborts_when_the_body_throws()
    {
        await using TestStore store = await TestStore.StartAsync();
        XenStoreClient a = store.Dom0();
        await Assert.ThrowsAsync<InvalidOperationException>(() => a.TransactAsync(async tx =>
        {
            await a.WriteAsync("/thrown", "x", tx);
            throw new InvalidOperationException("body failed");
        }));
        Assert.Null(await a.TryReadStringAsync("/thrown"));
    }

    [Fact]
    public async Task Conflicts_on_created_and_deleted_nodes()
    {
        await using TestStore store = await TestStore.StartAsync();
        XenStoreClient a = store.Dom0();
        XenStoreClient b = store.Dom0();

        // Both create a sibling under the same parent: the parent's child list conflicts.
        XsTransaction tx = await a.StartTransactionAsync();
        await a.WriteAsync("/sib/a", "1", tx);
        await b.WriteAsync("/sib/b", "1");
        Assert.False(await a.EndTransactionAsync(tx, commit: true));

        // Writing an existing node while another transaction read it.
        await b.WriteAsync("/q", "1");
        XsTransaction t2 = await a.StartTransactionAsync();
        Assert.Equal("1", await a.ReadStringAsync("/q", t2));
        await b.RmAsync("/q");
        await a.WriteAsync("/other", "x", t2);
        Assert.False(await a.EndTransactionAsync(t2, commit: true));

        // Unrelated changes elsewhere do not conflict.
        XsTransaction t3 = await a.StartTransactionAsync();
        await a.WriteAsync("/sib/a", "2", t3);
        await b.WriteAsync("/unrelated", "x");
        Assert.True(await a.EndTransactionAsync(t3, commit: true));
    }
}
