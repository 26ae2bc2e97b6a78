namespace XenVmc.XenStore.Tests;

/// <summary>
/// Golden bytes for every request the client sends and every reply it decodes, checked against a
/// scripted server: header words are little-endian u32 type, req_id, tx_id, len.
/// </summary>
public sealed class XenStoreClientGoldenTests
{
    public static TheoryData<string, string, string> Cases => new()
    {
        { "Read", "02000000 01000000 00000000 03000000 2f6100", "02000000 01000000 00000000 05000000 68656c6c6f" },
        { "ReadString", "02000000 01000000 00000000 03000000 2f6100", "02000000 01000000 00000000 05000000 68656c6c6f" },
        { "TryReadMissing", "02000000 01000000 00000000 06000000 2f6e6f706500", "10000000 01000000 00000000 07000000 454e4f454e5400" },
        { "Write", "0b000000 01000000 03000000 08000000 2f610068656c6c6f", "0b000000 01000000 03000000 03000000 4f4b00" },
        { "Mkdir", "0c000000 01000000 00000000 03000000 2f6100", "0c000000 01000000 00000000 03000000 4f4b00" },
        { "Rm", "0d000000 01000000 00000000 03000000 2f6100", "0d000000 01000000 00000000 03000000 4f4b00" },
        { "Directory", "01000000 01000000 00000000 07000000 2f6c6f63616c00", "01000000 01000000 00000000 0c000000 646f6d61696e00746f6f6c00" },
        { "DirectoryEmpty", "01000000 01000000 00000000 03000000 2f6500", "01000000 01000000 00000000 00000000" },
        { "GetPerms", "03000000 01000000 00000000 03000000 2f6100", "03000000 01000000 00000000 09000000 6e3000723500623700" },
        { "SetPerms", "0e000000 01000000 00000000 09000000 2f61006e3000723500", "0e000000 01000000 00000000 03000000 4f4b00" },
        { "GetDomainPath", "0a000000 01000000 00000000 02000000 3500", "0a000000 01000000 00000000 10000000 2f6c6f63616c2f646f6d61696e2f3500" },
        { "Introduce", "08000000 01000000 00000000 09000000 350034363630003700", "08000000 01000000 00000000 03000000 4f4b00" },
        { "Release", "09000000 01000000 00000000 02000000 3500", "09000000 01000000 00000000 03000000 4f4b00" },
        { "IsIntroducedT", "11000000 01000000 00000000 02000000 3500", "11000000 01000000 00000000 02000000 5400" },
        { "IsIntroducedF", "11000000 01000000 00000000 02000000 3500", "11000000 01000000 00000000 02000000 4600" },
        { "TxStart", "06000000 01000000 00000000 01000000 00", "06000000 01000000 00000000 03000000 313700" },
        { "TxCommit", "07000000 01000000 11000000 02000000 5400", "07000000 01000000 11000000 03000000 4f4b00" },
        { "TxAbort", "07000000 01000000 11000000 02000000 4600", "07000000 01000000 11000000 03000000 4f4b00" },
        { "TxConflict", "07000000 01000000 11000000 02000000 5400", "10000000 01000000 11000000 07000000 45414741494e00" },
        { "ErrorUnknown", "02000000 01000000 00000000 03000000 2f6100", "10000000 01000000 00000000 08000000 4546555455524500" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Request_and_reply_bytes(string operation, string request, string reply)
    {
        await using var server = new FakeXenStored();
        await using XenStoreClient client = await server.ConnectAsync();
        Task<object?> call = Call(client, operation);
        Assert.Equal(Hex.Of(Hex.Bytes(request)), Hex.Of(await server.ReceiveFrameAsync()));
        await server.SendAsync(Hex.Bytes(reply));
        await Task.WhenAny(call, Task.Delay(TimeSpan.FromSeconds(10)));
        Assert.True(call.IsCompleted, $"{operation} did not complete");
        Check(operation, call);
    }

    [Fact]
    public async Task Watch_request_reply_and_event_bytes()
    {
        await using var server = new FakeXenStored();
        await using XenStoreClient client = await server.ConnectAsync();
        Task<XsWatch> watch = client.WatchAsync("/a", "tok");
        Assert.Equal("04000000010000000000000007000000" + "2f6100746f6b00", Hex.Of(await server.ReceiveFrameAsync()));
        await server.SendAsync(Hex.Bytes("04000000 01000000 00000000 03000000 4f4b00"));
        await server.SendAsync(Hex.Bytes("0f000000 00000000 00000000 07000000 2f6100746f6b00 0f000000 00000000 00000000 09000000 2f612f6200746f6b00"));
        XsWatch w = await watch.WaitAsync(TimeSpan.FromSeconds(10));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        Assert.Equal("/a", await w.Events.ReadAsync(timeout.Token));
        Assert.Equal("/a/b", await w.Events.ReadAsync(timeout.Token));

        ValueTask dispose = w.DisposeAsync();
        Assert.Equal("05000000020000000000000007000000" + "2f6100746f6b00", Hex.Of(await server.ReceiveFrameAsync()));
        await server.SendAsync(Hex.Bytes("05000000 02000000 00000000 03000000 4f4b00"));
        await dispose.AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(w.Events.Completion.IsCompleted);
    }

    private static async Task<object?> Call(XenStoreClient client, string operation) => operation switch
    {
        "Read" => await client.ReadAsync("/a"),
        "ReadString" => await client.ReadStringAsync("/a"),
        "TryReadMissing" => await client.TryReadStringAsync("/nope"),
        "Write" => await Done(client.WriteAsync("/a", "hello", new XsTransaction(3))),
        "Mkdir" => await Done(client.MkdirAsync("/a")),
        "Rm" => await Done(client.RmAsync("/a")),
        "Directory" or "DirectoryEmpty" => await client.DirectoryAsync(operation == "Directory" ? "/local" : "/e"),
        "GetPerms" => await client.GetPermissionsAsync("/a"),
        "SetPerms" => await Done(client.SetPermissionsAsync("/a", [new XsPermission(XsAccess.None, 0), new XsPermission(XsAccess.Read, 5)])),
        "GetDomainPath" => await client.GetDomainPathAsync(5),
        "Introduce" => await Done(client.IntroduceAsync(5, 0x1234, 7)),
        "Release" => await Done(client.ReleaseAsync(5)),
        "IsIntroducedT" or "IsIntroducedF" => await client.IsDomainIntroducedAsync(5),
        "TxStart" => await client.StartTransactionAsync(),
        "TxCommit" or "TxConflict" => await client.EndTransactionAsync(new XsTransaction(17), commit: true),
        "TxAbort" => await client.EndTransactionAsync(new XsTransaction(17), commit: false),
        "ErrorUnknown" => await client.ReadAsync("/a"),
        _ => throw new ArgumentException(operation),
    };

    private static async Task<object?> Done(Task task)
    {
        await task;
        return "done";
    }

    private static void Check(string operation, Task<object?> call)
    {
        if (!call.IsCompleted)
        {
            return;
        }

        if (operation == "ErrorUnknown")
        {
            var e = Assert.IsType<XenStoreException>(call.Exception?.InnerException);
            Assert.Equal(XsError.EINVAL, e.Error);
            Assert.Equal("EFUTURE", e.ErrorName);
            Assert.Equal("XenStore READ '/a' failed: EFUTURE", e.Message);
            return;
        }

        object? result = call.Result;
        switch (operation)
        {
            case "Read": Assert.Equal("hello"u8.ToArray(), (byte[])result!); break;
            case "ReadString": Assert.Equal("hello", result); break;
            case "TryReadMissing": Assert.Null(result); break;
            case "Directory": Assert.Equal(["domain", "tool"], (IReadOnlyList<string>)result!); break;
            case "DirectoryEmpty": Assert.Empty((IReadOnlyList<string>)result!); break;
            case "GetPerms":
                Assert.Equal([new XsPermission(XsAccess.None, 0), new XsPermission(XsAccess.Read, 5), new XsPermission(XsAccess.Both, 7)], (IReadOnlyList<XsPermission>)result!);
                break;
            case "GetDomainPath": Assert.Equal("/local/domain/5", result); break;
            case "IsIntroducedT": Assert.Equal(true, result); break;
            case "IsIntroducedF": Assert.Equal(false, result); break;
            case "TxStart": Assert.Equal(new XsTransaction(17), result); break;
            case "TxCommit" or "TxAbort": Assert.Equal(true, result); break;
            case "TxConflict": Assert.Equal(false, result); break;
            default: Assert.Equal("done", result); break;
        }
    }
}
