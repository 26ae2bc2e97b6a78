using XenVmc.XenStore.Server;

namespace XenVmc.XenStore.Tests;

/// <summary>Unprivileged domains hit xenstored's quotas with xenstored's errors; Dom0 never does.</summary>
public sealed class StoreQuotasTests
{
    [Fact]
    public async Task Node_count_is_ENOSPC_and_counts_what_the_domain_owns()
    {
        await using TestStore store = await TestStore.StartAsync(new StoreQuotas { Nodes = 10 });
        XenStoreClient dom0 = store.Dom0();
        XenStoreClient d5 = await store.IntroduceGuestAsync(dom0, 5); // owns data/ already: 1 node
        for (int i = 0; i < 9; i++)
        {
            await d5.WriteAsync($"data/n{i}", "x");
        }

        XenStoreException e = await Assert.ThrowsAsync<XenStoreException>(() => d5.WriteAsync("data/one-too-many", "x"));
        Assert.Equal(XsError.ENOSPC, e.Error);
        await Assert.ThrowsAsync<XenStoreException>(() => d5.MkdirAsync("data/a/b"));
        Assert.Null(await dom0.TryReadStringAsync("/local/domain/5/data/a")); // nothing half-made

        await d5.RmAsync("data/n0");
        await d5.WriteAsync("data/fits-again", "x");
        for (int i = 0; i < 20; i++)
        {
            await dom0.WriteAsync($"/local/domain/5/data/dom0-{i}", "x"); // Dom0 is not limited (and owns these)
        }
    }

    [Fact]
    public async Task Node_size_permissions_and_path_length()
    {
        await using TestStore store = await TestStore.StartAsync();
        XenStoreClient dom0 = store.Dom0();
        XenStoreClient d5 = await store.IntroduceGuestAsync(dom0, 5);

        // 16 (header) + 8 (one permission) + value: 2024 bytes of value fit in 2048, 2025 do not.
        await d5.WriteAsync("data/big", new byte[2024]);
        Assert.Equal(XsError.ENOSPC, (await Assert.ThrowsAsync<XenStoreException>(() => d5.WriteAsync("data/big", new byte[2025]))).Error);
        await dom0.WriteAsync("/local/domain/5/data/big", new byte[4000]);

        XsPermission[] six = [.. Enumerable.Range(0, 6).Select(i => new XsPermission(XsAccess.Read, (uint)(i == 0 ? 5 : i + 10)))];
        await d5.WriteAsync("data/acl", "x");
        Assert.Equal(XsError.ENOSPC, (await Assert.ThrowsAsync<XenStoreException>(() => d5.SetPermissionsAsync("data/acl", six))).Error);
        await d5.SetPermissionsAsync("data/acl", six[..5]);

        // 20 components of 100 and "data/" + "/": exactly 2048 characters below /local/domain/5/.
        string relative = "data/" + string.Join('/', Enumerable.Repeat(new string('p', 100), 20)) + "/" + new string('q', 23);
        Assert.Equal(2048, relative.Length);
        await d5.WriteAsync(relative, "x");
        Assert.Equal(XsError.EINVAL, (await Assert.ThrowsAsync<XenStoreException>(() => d5.WriteAsync(relative + "q", "x"))).Error);
        await dom0.WriteAsync("/local/domain/5/" + relative + "q", "x"); // Dom0 only has the 3072 absolute limit

        // The parent is a node too: a child list over the node size is refused.
        await d5.MkdirAsync("data/wide");
        for (int i = 0; i < 20; i++)
        {
            await d5.MkdirAsync($"data/wide/{i:D2}" + new string('c', 97));
        }

        Assert.Equal(XsError.ENOSPC, (await Assert.ThrowsAsync<XenStoreException>(() => d5.MkdirAsync("data/wide/" + new string('c', 100)))).Error);
    }

    [Fact]
    public async Task Watches_are_E2BIG_and_transactions_ENOSPC_one_past_the_quota()
    {
        await using TestStore store = await TestStore.StartAsync(new StoreQuotas { Watches = 3, Transactions = 2 });
        XenStoreClient dom0 = store.Dom0();
        XenStoreClient d5 = await store.IntroduceGuestAsync(dom0, 5);

        // Like xenstored, the count is checked with '>' before adding: quota + 1 succeed.
        for (int i = 0; i < 4; i++)
        {
            await d5.WatchAsync($"data/w{i}", "t");
        }

        Assert.Equal(XsError.E2BIG, (await Assert.ThrowsAsync<XenStoreException>(() => d5.WatchAsync("data/w4", "t"))).Error);
        for (int i = 0; i < 3; i++)
        {
            await d5.StartTransactionAsync();
        }

        Assert.Equal(XsError.ENOSPC, (await Assert.ThrowsAsync<XenStoreException>(() => d5.StartTransactionAsync())).Error);
        for (int i = 0; i < 10; i++)
        {
            await dom0.WatchAsync($"/any/{i}", "t");
            await dom0.StartTransactionAsync();
        }
    }

    [Fact]
    public async Task Transaction_commit_rechecks_the_node_quota()
    {
        await using TestStore store = await TestStore.StartAsync(new StoreQuotas { Nodes = 5 });
        XenStoreClient dom0 = store.Dom0();
        XenStoreClient d5 = await store.IntroduceGuestAsync(dom0, 5); // 1 node
        XsTransaction t1 = await d5.StartTransactionAsync();
        XsTransaction t2 = await d5.StartTransactionAsync();
        await d5.WriteAsync("data/a1", "x", t1);
        await d5.WriteAsync("data/a2", "x", t1);
        await d5.WriteAsync("data/b1", "x", t2);
        await d5.WriteAsync("data/b2", "x", t2);
        await d5.WriteAsync("data/b3", "x", t2);
        Assert.True(await d5.EndTransactionAsync(t1, commit: true)); // 3 owned now

        // xenstored's commit check is "count + new >= quota": 3 + 3 fails.
        XenStoreException e = await Assert.ThrowsAsync<XenStoreException>(() => d5.EndTransactionAsync(t2, commit: true));
        Assert.Equal(XsError.ENOSPC, e.Error);
    }
}
