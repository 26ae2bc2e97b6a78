namespace XenVmc.XenStore.Tests;

/// <summary>xenstored's permission model, enforced on domain connections.</summary>
public sealed class PermissionsTests
{
    [Fact]
    public async Task Domain_5_is_kept_to_what_its_acls_allow()
    {
        await using TestStore store = await TestStore.StartAsync();
        XenStoreClient dom0 = store.Dom0();
        XenStoreClient d5 = await store.IntroduceGuestAsync(dom0, 5);
        await store.IntroduceGuestAsync(dom0, 6);
        await dom0.WriteAsync("/local/domain/6/data/secret", "s");
        await dom0.SetPermissionsAsync("/local/domain/6/data/secret", [new XsPermission(XsAccess.None, 6)]);
        await dom0.WriteAsync("/local/domain/5/name", "five"); // Dom0-owned, readable by 5 (inherited n0 r5)

        // Another domain's home: nothing, and not even whether a node exists.
        XenStoreException e = await Assert.ThrowsAsync<XenStoreException>(() => d5.ReadAsync("/local/domain/6/data/secret"));
        Assert.Equal(XsError.EACCES, e.Error);
        Assert.Equal(XsError.EACCES, (await Assert.ThrowsAsync<XenStoreException>(() => d5.ReadAsync("/local/domain/6/data/nothing"))).Error);
        Assert.Equal(XsError.EACCES, (await Assert.ThrowsAsync<XenStoreException>(() => d5.DirectoryAsync("/local/domain/6"))).Error);

        // Its own home: readable, but a Dom0-owned node there is not writable.
        Assert.Equal("five", await d5.ReadStringAsync("name"));
        Assert.Equal("five", await d5.ReadStringAsync("/local/domain/5/name"));
        Assert.Equal(XsError.EACCES, (await Assert.ThrowsAsync<XenStoreException>(() => d5.WriteAsync("name", "mine"))).Error);
        Assert.Equal(XsError.EACCES, (await Assert.ThrowsAsync<XenStoreException>(() => d5.WriteAsync("/local/domain/5/new", "x"))).Error);
        Assert.Equal(XsError.EACCES, (await Assert.ThrowsAsync<XenStoreException>(() => d5.RmAsync("name"))).Error);
        Assert.Equal(XsError.EACCES, (await Assert.ThrowsAsync<XenStoreException>(() => d5.SetPermissionsAsync("name", [new XsPermission(XsAccess.None, 0), new XsPermission(XsAccess.Both, 5)]))).Error);

        // What it creates below data/ it owns, with the inherited default for others.
        await d5.WriteAsync("data/mine/leaf", "v");
        Assert.Equal([new XsPermission(XsAccess.None, 5)], await dom0.GetPermissionsAsync("/local/domain/5/data/mine/leaf"));
        Assert.Equal(XsError.EPERM, (await Assert.ThrowsAsync<XenStoreException>(() => d5.SetPermissionsAsync("data/mine", [new XsPermission(XsAccess.None, 6)]))).Error);
        await d5.SetPermissionsAsync("data/mine/leaf", [new XsPermission(XsAccess.None, 5), new XsPermission(XsAccess.Read, 6)]);
        XenStoreClient d6 = store.Domain(6);
        Assert.Equal("v", await d6.ReadStringAsync("/local/domain/5/data/mine/leaf")); // granted on the node, not its parents
        Assert.Equal(XsError.EACCES, (await Assert.ThrowsAsync<XenStoreException>(() => d6.ReadAsync("/local/domain/5/data/mine"))).Error);
        Assert.Equal(XsError.EACCES, (await Assert.ThrowsAsync<XenStoreException>(() => d6.WriteAsync("/local/domain/5/data/mine/leaf", "w"))).Error);

        // Dom0-only requests.
        Assert.Equal(XsError.EACCES, (await Assert.ThrowsAsync<XenStoreException>(() => d5.IntroduceAsync(9, 1, 1))).Error);
        Assert.Equal(XsError.EACCES, (await Assert.ThrowsAsync<XenStoreException>(() => d5.IsDomainIntroducedAsync(5))).Error);
        Assert.Equal("/local/domain/5", await d5.GetDomainPathAsync(5));
    }

    [Fact]
    public async Task Watches_of_domain_5_never_report_nodes_it_cannot_read()
    {
        await using TestStore store = await TestStore.StartAsync();
        XenStoreClient dom0 = store.Dom0();
        XenStoreClient d5 = await store.IntroduceGuestAsync(dom0, 5);
        await store.IntroduceGuestAsync(dom0, 6);
        await using XsWatch all = await d5.WatchAsync("/", "all");
        await using XsWatch other = await d5.WatchAsync("/local/domain/6", "six");
        await using XsWatch special = await d5.WatchAsync("@introduceDomain", "intro");
        Assert.Equal("/", await XsWatchTests.Next(all));
        Assert.Equal("/local/domain/6", await XsWatchTests.Next(other)); // the registration event is always sent
        Assert.Equal("@introduceDomain", await XsWatchTests.Next(special));

        await dom0.WriteAsync("/local/domain/6/data/hidden", "h");
        await dom0.WriteAsync("/private/x", "p");
        await store.IntroduceGuestAsync(dom0, 7); // @introduceDomain is not readable for 5
        XenStoreClient d6 = store.Domain(6);
        await d6.WriteAsync("data/own", "o");
        await dom0.WriteAsync("/local/domain/5/visible", "v"); // readable by 5
        await d5.WriteAsync("data/mark", "m");

        Assert.Equal("/local/domain/5/visible", await XsWatchTests.Next(all));
        Assert.Equal("/local/domain/5/data/mark", await XsWatchTests.Next(all));
        Assert.False(other.Events.TryRead(out string? leaked), $"leaked {leaked}");
        Assert.False(special.Events.TryRead(out string? intro), $"leaked {intro}");

        // A permission change is announced to those who could read under the old ACL.
        await d5.WriteAsync("data/shared", "s");
        await d5.SetPermissionsAsync("data/shared", [new XsPermission(XsAccess.None, 5), new XsPermission(XsAccess.Read, 6)]);
        await using XsWatch sixWatch = await d6.WatchAsync("/local/domain/5/data/shared", "w6");
        Assert.Equal("/local/domain/5/data/shared", await XsWatchTests.Next(sixWatch));
        await d5.SetPermissionsAsync("data/shared", [new XsPermission(XsAccess.None, 5)]);
        Assert.Equal("/local/domain/5/data/shared", await XsWatchTests.Next(sixWatch));
        await d5.WriteAsync("data/shared", "after");
        await d6.WriteAsync("data/mark", "m");
        await using XsWatch mark = await d6.WatchAsync("data/mark", "m6");
        Assert.Equal("data/mark", await XsWatchTests.Next(mark));
        Assert.False(sixWatch.Events.TryRead(out string? late), $"leaked {late}");

        // Dom0 grants read on the special node: now 5 hears of introductions.
        await dom0.SetPermissionsAsync("@introduceDomain", [new XsPermission(XsAccess.None, 0), new XsPermission(XsAccess.Read, 5)]);
        await store.IntroduceGuestAsync(dom0, 8);
        Assert.Equal("@introduceDomain", await XsWatchTests.Next(special));
    }

    [Fact]
    public async Task Set_target_gives_a_stub_domain_its_targets_rights()
    {
        await using TestStore store = await TestStore.StartAsync();
        XenStoreClient dom0 = store.Dom0();
        XenStoreClient stub = await store.IntroduceGuestAsync(dom0, 3);
        await store.IntroduceGuestAsync(dom0, 4);
        await dom0.WriteAsync("/local/domain/4/data/disk", "d");
        await dom0.SetPermissionsAsync("/local/domain/4/data/disk", [new XsPermission(XsAccess.None, 4)]);
        Assert.Equal(XsError.EACCES, (await Assert.ThrowsAsync<XenStoreException>(() => stub.ReadAsync("/local/domain/4/data/disk"))).Error);

        using var raw = new RawConnection(store.RawDom0());
        Assert.Equal(Hex.Of(RawConnection.Frame(16, 1, 0, "ENOENT\0")), await raw.ExchangeAsync(RawConnection.Frame(19, 1, 0, "3\0" + "9\0")));
        Assert.Equal(Hex.Of(RawConnection.Frame(19, 2, 0, "OK\0")), await raw.ExchangeAsync(RawConnection.Frame(19, 2, 0, "3\0" + "4\0")));
        Assert.Equal("d", await stub.ReadStringAsync("/local/domain/4/data/disk"));
        await stub.WriteAsync("/local/domain/4/data/disk", "written by the stub");
    }
}
