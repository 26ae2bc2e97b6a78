namespace XenVmc.XenStore.Tests;

/// <summary>Watch semantics of xenstored, seen through the client.</summary>
public sealed class XsWatchTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Registration_event_then_every_change_below()
    {
        await using TestStore store = await TestStore.StartAsync();
        XenStoreClient watcher = store.Dom0();
        XenStoreClient writer = store.Dom0();
        await using XsWatch watch = await watcher.WatchAsync("/w", "tok");
        Assert.Equal("/w", await Next(watch)); // fires even though /w does not exist

        await writer.WriteAsync("/w", "1");
        await writer.WriteAsync("/w/a/b", "2"); // one event, for the node written
        await writer.WriteAsync("/wx", "no"); // not below /w
        await writer.MkdirAsync("/w/c");
        await writer.MkdirAsync("/w/c"); // exists: no event
        await writer.SetPermissionsAsync("/w/c", [new XsPermission(XsAccess.Read, 0)]);
        await writer.RmAsync("/w/a"); // the removed node only: nodes below fire only exact watches
        await writer.WriteAsync("/w/end", "");
        Assert.Equal(["/w", "/w/a/b", "/w/c", "/w/c", "/w/a", "/w/end"], await Take(watch, 6));
    }

    [Fact]
    public async Task Removing_an_ancestor_reports_the_watched_path()
    {
        await using TestStore store = await TestStore.StartAsync();
        XenStoreClient c = store.Dom0();
        await c.WriteAsync("/top/mid/leaf", "x");
        await using XsWatch onLeaf = await c.WatchAsync("/top/mid/leaf", "leaf");
        await using XsWatch onMissing = await c.WatchAsync("/top/mid/none", "none");
        await using XsWatch onRoot = await c.WatchAsync("/", "root");
        Assert.Equal("/top/mid/leaf", await Next(onLeaf));
        Assert.Equal("/top/mid/none", await Next(onMissing));
        Assert.Equal("/", await Next(onRoot));

        await c.RmAsync("/top");
        await c.WriteAsync("/marker", "m");
        Assert.Equal("/top/mid/leaf", await Next(onLeaf));
        Assert.Equal(["/top", "/marker"], await Take(onRoot, 2)); // the removed root, not each node below
        await c.WriteAsync("/top/mid/none", "now");
        Assert.Equal("/top/mid/none", await Next(onMissing)); // nothing for the removal: it never existed
    }

    [Fact]
    public async Task Relative_watch_of_a_domain_reports_relative_paths()
    {
        await using TestStore store = await TestStore.StartAsync();
        XenStoreClient dom0 = store.Dom0();
        XenStoreClient guest = await store.IntroduceGuestAsync(dom0, 5);
        await using XsWatch watch = await guest.WatchAsync("data", "rel");
        Assert.Equal("data", await Next(watch));
        await guest.WriteAsync("data/x", "1");
        await dom0.WriteAsync("/local/domain/5/data/y", "2");
        await dom0.RmAsync("/local/domain/5/data");
        Assert.Equal(["data/x", "data/y", "data"], await Take(watch, 3));
        Assert.Equal("1", await dom0.TryReadStringAsync("/local/domain/5/data/x") ?? "1");
    }

    [Fact]
    public async Task Duplicate_path_and_token_is_EEXIST_and_unwatch_stops_events()
    {
        await using TestStore store = await TestStore.StartAsync();
        XenStoreClient c = store.Dom0();
        XsWatch first = await c.WatchAsync("/dup", "t");
        var e = await Assert.ThrowsAsync<XenStoreException>(() => c.WatchAsync("/dup", "t"));
        Assert.Equal(XsError.EEXIST, e.Error);
        await using XsWatch other = await c.WatchAsync("/dup", "u"); // another token is another watch
        Assert.Equal("/dup", await Next(first));
        Assert.Equal("/dup", await Next(other));

        await first.DisposeAsync();
        await first.Events.Completion.WaitAsync(Timeout);
        await c.WriteAsync("/dup", "1");
        Assert.Equal("/dup", await Next(other));
        Assert.False(first.Events.TryRead(out _));
    }

    [Fact]
    public async Task Same_token_on_two_paths_goes_to_the_right_watch()
    {
        await using TestStore store = await TestStore.StartAsync();
        XenStoreClient c = store.Dom0();
        await using XsWatch a = await c.WatchAsync("/a", "same");
        await using XsWatch b = await c.WatchAsync("/b", "same");
        Assert.Equal("/a", await Next(a));
        Assert.Equal("/b", await Next(b));
        await c.WriteAsync("/b/x", "1");
        await c.WriteAsync("/a/y", "1");
        Assert.Equal("/a/y", await Next(a));
        Assert.Equal("/b/x", await Next(b));
    }

    [Fact]
    public async Task Reset_watches_drops_them_all()
    {
        await using TestStore store = await TestStore.StartAsync();
        using var raw = new RawConnection(store.RawDom0());
        await raw.ExchangeAsync(RawConnection.Frame(4, 1, 0, "/r\0t\0"));
        await raw.ReceiveFrameAsync(); // registration event
        Assert.Equal(Hex.Of(RawConnection.Frame(21, 2, 0, "OK\0")), await raw.ExchangeAsync(RawConnection.Frame(21, 2, 0, "\0")));
        await store.Dom0().WriteAsync("/r", "1");
        Assert.Equal(Hex.Of(RawConnection.Frame(2, 3, 0, "1")), await raw.ExchangeAsync(RawConnection.Frame(2, 3, 0, "/r\0")));
    }

    [Fact]
    public async Task Event_storm_arrives_complete_and_in_order()
    {
        await using TestStore store = await TestStore.StartAsync();
        XenStoreClient watcher = store.Dom0();
        XenStoreClient writer = store.Dom0();
        await using XsWatch watch = await watcher.WatchAsync("/storm", "s");
        Assert.Equal("/storm", await Next(watch));
        await Task.WhenAll(Enumerable.Range(0, 1000).Select(i => writer.WriteAsync($"/storm/{i}", "x")));
        var seen = new HashSet<string>();
        for (int i = 0; i < 1000; i++)
        {
            seen.Add(await Next(watch));
        }

        Assert.Equal(1000, seen.Count);
    }

    internal static async Task<string> Next(XsWatch watch)
    {
        using var cts = new CancellationTokenSource(Timeout);
        return await watch.Events.ReadAsync(cts.Token);
    }

    internal static async Task<List<string>> Take(XsWatch watch, int count)
    {
        var events = new List<string>();
        for (int i = 0; i < count; i++)
        {
            events.Add(await Next(watch));
        }

        return events;
    }
}
