namespace XenVmc.XenStore.Tests;

/// <summary>
/// The store's side of the wire, byte for byte: reply encodings for every request type, error
/// replies echoing req_id and tx_id, watch event frames, and the errno xenstored gives bad payloads.
/// </summary>
public sealed class StoreEngineTests
{
    private static byte[] F(uint type, uint req, uint tx, string payload) => RawConnection.Frame(type, req, tx, payload);

    [Fact]
    public async Task Replies_for_every_request_type()
    {
        await using TestStore store = await TestStore.StartAsync();
        using var c = new RawConnection(store.RawDom0());

        Assert.Equal("0b000000" + "07000000" + "00000000" + "03000000" + "4f4b00", await c.ExchangeAsync(F(11, 7, 0, "/a\0hello")));
        Assert.Equal("02000000" + "07000000" + "00000000" + "05000000" + "68656c6c6f", await c.ExchangeAsync(F(2, 7, 0, "/a\0")));
        Assert.Equal("01000000" + "07000000" + "00000000" + "07000000" + "746f6f6c006100", await c.ExchangeAsync(F(1, 7, 0, "/\0")));
        Assert.Equal("03000000" + "07000000" + "00000000" + "03000000" + "6e3000", await c.ExchangeAsync(F(3, 7, 0, "/a\0")));
        Assert.Equal("0e000000" + "07000000" + "00000000" + "03000000" + "4f4b00", await c.ExchangeAsync(F(14, 7, 0, "/a\0n0\0r0x5\0")));
        Assert.Equal("03000000" + "07000000" + "00000000" + "06000000" + "6e3000723500", await c.ExchangeAsync(F(3, 7, 0, "/a\0")));
        Assert.Equal("0c000000" + "07000000" + "00000000" + "03000000" + "4f4b00", await c.ExchangeAsync(F(12, 7, 0, "/b\0")));
        Assert.Equal("0d000000" + "07000000" + "00000000" + "03000000" + "4f4b00", await c.ExchangeAsync(F(13, 7, 0, "/b\0")));

        // WATCH: the reply, then at once the registration event with req_id and tx_id 0.
        Assert.Equal("04000000" + "07000000" + "00000000" + "03000000" + "4f4b00", await c.ExchangeAsync(F(4, 7, 0, "/a\0tok\0")));
        Assert.Equal("0f000000" + "00000000" + "00000000" + "07000000" + "2f6100746f6b00", Hex.Of(await c.ReceiveFrameAsync()));
        Assert.Equal("05000000" + "07000000" + "00000000" + "03000000" + "4f4b00", await c.ExchangeAsync(F(5, 7, 0, "/a\0tok\0")));

        Assert.Equal("06000000" + "07000000" + "00000000" + "02000000" + "3100", await c.ExchangeAsync(F(6, 7, 0, "\0")));
        Assert.Equal("07000000" + "07000000" + "01000000" + "03000000" + "4f4b00", await c.ExchangeAsync(F(7, 7, 1, "T\0")));

        Assert.Equal("0a000000" + "07000000" + "00000000" + "10000000" + "2f6c6f63616c2f646f6d61696e2f3500", await c.ExchangeAsync(F(10, 7, 0, "5\0")));
        Assert.Equal("11000000" + "07000000" + "00000000" + "02000000" + "5400", await c.ExchangeAsync(F(17, 7, 0, "0\0")));
        Assert.Equal("11000000" + "07000000" + "00000000" + "02000000" + "4600", await c.ExchangeAsync(F(17, 7, 0, "5\0")));
        Assert.Equal("08000000" + "07000000" + "00000000" + "03000000" + "4f4b00", await c.ExchangeAsync(F(8, 7, 0, "5\0" + "4660\0" + "1\0")));
        Assert.Equal("11000000" + "07000000" + "00000000" + "02000000" + "5400", await c.ExchangeAsync(F(17, 7, 0, "5\0")));
        Assert.Equal("12000000" + "07000000" + "00000000" + "03000000" + "4f4b00", await c.ExchangeAsync(F(18, 7, 0, "5\0")));
        Assert.Equal("09000000" + "07000000" + "00000000" + "03000000" + "4f4b00", await c.ExchangeAsync(F(9, 7, 0, "5\0")));
        Assert.Equal("15000000" + "07000000" + "00000000" + "03000000" + "4f4b00", await c.ExchangeAsync(F(21, 7, 0, "\0")));

        // An error reply is type 16 with the errno name, req_id and tx_id copied from the request.
        Assert.Equal("10000000" + "09000000" + "00000000" + "07000000" + "454e4f454e5400", await c.ExchangeAsync(F(2, 9, 0, "/missing\0")));
        Assert.Equal("10000000" + "0a000000" + "37000000" + "07000000" + "454e4f454e5400", await c.ExchangeAsync(F(2, 10, 55, "/a\0")));
    }

    [Fact]
    public async Task Directory_part_pages_the_child_list()
    {
        await using TestStore store = await TestStore.StartAsync();
        await using XenStoreClient client = store.Dom0();
        string[] names = Enumerable.Range(0, 300).Select(i => $"child-with-a-longish-name-{i:D4}").ToArray();
        foreach (string name in names)
        {
            await client.MkdirAsync("/big/" + name);
        }

        // 300 * 31 bytes is over 4096: DIRECTORY says E2BIG and the client pages with DIRECTORY_PART.
        using var raw = new RawConnection(store.RawDom0());
        Assert.Equal(Hex.Of(F(16, 1, 0, "E2BIG\0")), await raw.ExchangeAsync(F(1, 1, 0, "/big\0")));
        Assert.Equal(names, await client.DirectoryAsync("/big"));

        string first = System.Text.Encoding.Latin1.GetString((await raw.ExchangeAsync(F(22, 2, 0, "/big\0" + "0\0")) is string hex ? Hex.Bytes(hex) : [])[16..]);
        string generation = first[..first.IndexOf('\0')];
        Assert.True(long.TryParse(generation, out _));
        Assert.EndsWith("\0", first);
        Assert.False(first.EndsWith("\0\0", StringComparison.Ordinal));
        Assert.True(first.Length <= 4096);

        // Past the end: just the generation and the end marker.
        Assert.Equal(Hex.Of(F(22, 3, 0, generation + "\0\0")), await raw.ExchangeAsync(F(22, 3, 0, "/big\0" + "99999\0")));
    }

    public static TheoryData<uint, uint, string, string> BadRequests => new()
    {
        // type, tx_id, payload, error xenstored answers
        { 2, 0, "", "EINVAL" },
        { 2, 0, "/a", "EINVAL" },
        { 2, 0, "/a\0\0", "EINVAL" },
        { 2, 0, "/a b\0", "EINVAL" },
        { 2, 0, "/a/\0", "EINVAL" },
        { 2, 0, "//a\0", "EINVAL" },
        { 2, 0, "/a\u00e9\0", "EINVAL" },
        { 2, 0, "@introduceDomain\0", "EINVAL" },
        { 2, 0, "/" + new string('x', 3072) + "\0", "EINVAL" },
        { 11, 0, "", "EINVAL" },
        { 11, 0, "/x", "EINVAL" },
        { 12, 0, "\0", "EINVAL" },
        { 13, 0, "/\0", "EINVAL" },
        { 13, 0, "/no/parent\0", "ENOENT" },
        { 1, 0, "/nope\0", "ENOENT" },
        { 22, 0, "/\0", "EINVAL" },
        { 4, 0, "/a\0", "EINVAL" },
        { 4, 0, "/a\0t\0x\0", "EINVAL" },
        { 5, 0, "/a\0nosuch\0", "ENOENT" },
        { 7, 0, "T\0", "ENOENT" },
        { 7, 0, "X\0", "EINVAL" },
        { 7, 99, "T\0", "ENOENT" },
        { 14, 0, "/\0", "EINVAL" },
        { 14, 0, "/\0q1\0", "EINVAL" },
        { 14, 0, "/\0r\0", "EINVAL" },
        { 14, 0, "/\0n32752\0", "ENOENT" },
        { 14, 0, "/nope\0n0\0", "ENOENT" },
        { 8, 0, "5\0" + "0\0" + "0\0", "EINVAL" },
        { 8, 0, "5\0", "EINVAL" },
        { 8, 0, "40000\0" + "0\0" + "1\0", "EINVAL" },
        { 9, 0, "0\0", "EINVAL" },
        { 9, 0, "9\0", "ENOENT" },
        { 9, 0, "9", "EINVAL" },
        { 18, 0, "0\0", "EINVAL" },
        { 19, 0, "1\0" + "2\0", "ENOENT" },
        { 10, 0, "", "EINVAL" },
        { 17, 0, "", "EINVAL" },
        { 0, 0, "print\0", "ENOSYS" },
        { 15, 0, "/a\0t\0", "ENOSYS" },
        { 16, 0, "EINVAL\0", "ENOSYS" },
        { 20, 0, "\0", "ENOSYS" },
        { 23, 0, "\0", "ENOSYS" },
        { 26, 0, "\0", "ENOSYS" },
        { 27, 0, "\0", "ENOSYS" },
        { 0xFFFF, 0, "", "ENOSYS" },
        { 0xFFFFFFFF, 0, "", "ENOSYS" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_payloads_get_the_errno_xenstored_gives(uint type, uint tx, string payload, string error)
    {
        await using TestStore store = await TestStore.StartAsync();
        using var c = new RawConnection(store.RawDom0());
        await c.ExchangeAsync(F(11, 1, 0, "/a\0v"));
        Assert.Equal(Hex.Of(F(16, 42, tx, error + "\0")), await c.ExchangeAsync(F(type, 42, tx, payload)));

        // The connection is still good afterwards.
        Assert.Equal(Hex.Of(F(2, 43, 0, "v")), await c.ExchangeAsync(F(2, 43, 0, "/a\0")));
    }

    [Fact]
    public async Task Transaction_start_inside_a_transaction_is_EBUSY_and_ids_start_at_1()
    {
        await using TestStore store = await TestStore.StartAsync();
        using var c = new RawConnection(store.RawDom0());
        Assert.Equal(Hex.Of(F(6, 1, 0, "1\0")), await c.ExchangeAsync(F(6, 1, 0, "\0")));
        Assert.Equal(Hex.Of(F(6, 2, 0, "2\0")), await c.ExchangeAsync(F(6, 2, 0, "\0")));
        Assert.Equal(Hex.Of(F(16, 3, 1, "EBUSY\0")), await c.ExchangeAsync(F(6, 3, 1, "\0")));

        // An invalid end keeps the transaction; a valid one ends it.
        Assert.Equal(Hex.Of(F(16, 4, 1, "EINVAL\0")), await c.ExchangeAsync(F(7, 4, 1, "commit\0")));
        Assert.Equal(Hex.Of(F(7, 5, 1, "OK\0")), await c.ExchangeAsync(F(7, 5, 1, "F\0")));
        Assert.Equal(Hex.Of(F(16, 6, 1, "ENOENT\0")), await c.ExchangeAsync(F(7, 6, 1, "F\0")));
    }

    [Fact]
    public async Task Relative_paths_on_the_dom0_socket_resolve_below_local_domain_0()
    {
        await using TestStore store = await TestStore.StartAsync();
        using var c = new RawConnection(store.RawDom0());
        Assert.Equal(Hex.Of(F(11, 1, 0, "OK\0")), await c.ExchangeAsync(F(11, 1, 0, "name\0Domain-0")));
        await using XenStoreClient client = store.Dom0();
        Assert.Equal("Domain-0", await client.ReadStringAsync("/local/domain/0/name"));
    }
}
