using System.Net.Sockets;
using XenVmc.XenStore.Protocol;

namespace XenVmc.XenStore.Tests;

/// <summary>
/// The client against a server that breaks the protocol: every call must end (with a result or a
/// clear exception), <see cref="XenStoreClient.Closed"/> must fault on a broken stream, nothing hangs.
/// </summary>
public sealed class XenStoreClientProtocolTests
{
    [Fact]
    public async Task Random_server_bytes_never_hang_the_client()
    {
        await using var server = new FakeXenStored();
        var random = new Random(4242);
        int faulted = 0;
        for (int i = 0; i < 1500; i++)
        {
            XenStoreClient client = await server.ConnectAsync();
            Task<byte[]> read = client.ReadAsync("/a");
            Task<XsWatch> watch = client.WatchAsync("/w", "t");
            byte[] garbage = Garbage(random);
            await server.SendAsync(garbage);
            server.Peer.Shutdown(SocketShutdown.Both);

            Task all = Task.WhenAll(Ended(read), Ended(watch), Ended(client.Closed));
            Assert.True(await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(10))) == all, $"case {i} hung: {Hex.Of(garbage[..Math.Min(64, garbage.Length)])}");
            Assert.True(client.Closed.IsFaulted, $"case {i}: Closed did not fault");
            Assert.IsAssignableFrom<XenStoreConnectionException>(client.Closed.Exception!.InnerException);
            foreach (Task call in new Task[] { read, watch })
            {
                if (call.IsFaulted)
                {
                    Exception e = call.Exception!.InnerException!;
                    Assert.True(XenStoreFailure.Is(e), $"case {i}: {e.GetType()}: {e.Message}");
                }
            }

            if (client.Closed.Exception!.InnerException is XsProtocolException)
            {
                faulted++;
            }

            await client.DisposeAsync();
            server.Peer.Dispose();
        }

        Assert.True(faulted > 100, $"only {faulted} cases were protocol errors");
    }

    [Fact]
    public async Task Oversized_reply_faults_the_connection_and_fails_pending_calls()
    {
        await using var server = new FakeXenStored();
        await using XenStoreClient client = await server.ConnectAsync();
        Task<byte[]> first = client.ReadAsync("/a");
        Task<byte[]> second = client.ReadAsync("/b");
        await server.ReceiveFrameAsync();
        await server.SendAsync(RawConnection.Frame(2, 1, 0, "")[..12].Concat(BitConverter.GetBytes(4097u)).ToArray());

        var e = await Assert.ThrowsAsync<XsProtocolException>(() => first.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("4097", e.Message);
        await Assert.ThrowsAsync<XsProtocolException>(() => second.WaitAsync(TimeSpan.FromSeconds(10)));
        await Assert.ThrowsAsync<XsProtocolException>(() => client.Closed.WaitAsync(TimeSpan.FromSeconds(10)));
        await Assert.ThrowsAsync<XsProtocolException>(() => client.ReadAsync("/c"));
    }

    [Fact]
    public async Task A_watch_request_goes_out_alone_after_every_earlier_reply_and_before_any_later_request()
    {
        // Linux's /dev/xen/xenbus deadlocks on a (un)watch written behind an unanswered request.
        await using var server = new FakeXenStored();
        await using XenStoreClient client = await server.ConnectAsync();
        Task<byte[]> read = client.ReadAsync("/a");
        Assert.Equal(2u, BitConverter.ToUInt32(await server.ReceiveFrameAsync(), 0));

        Task<XsWatch> watch = client.WatchAsync("/w", "t");
        await Task.Delay(300);
        Assert.Equal(0, server.Peer.Available); // held back: the read is unanswered
        await server.SendAsync(RawConnection.Frame(2, 1, 0, "a"));
        Assert.Equal("a", System.Text.Encoding.UTF8.GetString(await read.WaitAsync(TimeSpan.FromSeconds(10))));
        byte[] watchFrame = await server.ReceiveFrameAsync();
        Assert.Equal(4u, BitConverter.ToUInt32(watchFrame, 0));

        Task<byte[]> later = client.ReadAsync("/b");
        await Task.Delay(300);
        Assert.Equal(0, server.Peer.Available); // held back: the watch is unanswered
        await server.SendAsync(RawConnection.Frame(4, BitConverter.ToUInt32(watchFrame, 4), 0, "OK\0"));
        Assert.Equal("/w", (await watch.WaitAsync(TimeSpan.FromSeconds(10))).Path);
        byte[] laterFrame = await server.ReceiveFrameAsync();
        Assert.Equal(2u, BitConverter.ToUInt32(laterFrame, 0));
        await server.SendAsync(RawConnection.Frame(2, BitConverter.ToUInt32(laterFrame, 4), 0, "b"));
        Assert.Equal("b", System.Text.Encoding.UTF8.GetString(await later.WaitAsync(TimeSpan.FromSeconds(10))));
    }

    [Fact]
    public async Task Wrong_reply_type_fails_only_that_call()
    {
        await using var server = new FakeXenStored();
        await using XenStoreClient client = await server.ConnectAsync();
        Task<byte[]> read = client.ReadAsync("/a");
        await server.ReceiveFrameAsync();
        await server.SendAsync(RawConnection.Frame(11, 1, 0, "OK\0"));
        await Assert.ThrowsAsync<XsProtocolException>(() => read.WaitAsync(TimeSpan.FromSeconds(10)));

        Task<string> next = client.ReadStringAsync("/b");
        await server.ReceiveFrameAsync();
        await server.SendAsync(RawConnection.Frame(2, 2, 0, "fine"));
        Assert.Equal("fine", await next.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.False(client.Closed.IsCompleted);
    }

    [Fact]
    public async Task Server_closing_faults_Closed_and_completes_watch_channels()
    {
        await using var server = new FakeXenStored();
        await using XenStoreClient client = await server.ConnectAsync();
        Task<XsWatch> pending = client.WatchAsync("/w", "t");
        await server.ReceiveFrameAsync();
        await server.SendAsync(RawConnection.Frame(4, 1, 0, "OK\0"));
        XsWatch watch = await pending.WaitAsync(TimeSpan.FromSeconds(10));
        server.Peer.Shutdown(SocketShutdown.Both);

        await Assert.ThrowsAsync<XenStoreConnectionException>(() => client.Closed.WaitAsync(TimeSpan.FromSeconds(10)));
        await Assert.ThrowsAsync<XenStoreConnectionException>(() => watch.Events.Completion.WaitAsync(TimeSpan.FromSeconds(10)));
        await watch.DisposeAsync(); // the connection is gone: not an error
    }

    [Fact]
    public async Task Oversized_request_fails_alone_without_reaching_the_server()
    {
        await using var server = new FakeXenStored();
        await using XenStoreClient client = await server.ConnectAsync();
        var e = await Assert.ThrowsAsync<XenStoreException>(() => client.WriteAsync("/a", new byte[XsLimits.PayloadMax]));
        Assert.Equal(XsError.E2BIG, e.Error);
        Assert.Throws<ArgumentException>(() => { _ = client.ReadAsync("/a\0b"); });

        Task<byte[]> read = client.ReadAsync("/ok");
        Assert.Equal(Hex.Of(RawConnection.Frame(2, 1, 0, "/ok\0")), Hex.Of(await server.ReceiveFrameAsync()));
        await server.SendAsync(RawConnection.Frame(2, 1, 0, "x"));
        Assert.Equal("x"u8.ToArray(), await read.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Cancellation_abandons_the_call_and_its_late_reply_is_dropped()
    {
        await using var server = new FakeXenStored();
        await using XenStoreClient client = await server.ConnectAsync();
        using var cts = new CancellationTokenSource();
        Task<byte[]> read = client.ReadAsync("/slow", ct: cts.Token);
        await server.ReceiveFrameAsync();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);

        Task<string> next = client.ReadStringAsync("/b");
        await server.ReceiveFrameAsync();
        await server.SendAsync([.. RawConnection.Frame(2, 1, 0, "late"), .. RawConnection.Frame(2, 2, 0, "mine")]);
        Assert.Equal("mine", await next.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void Frame_parser_throws_only_protocol_errors_on_random_input()
    {
        var random = new Random(99);
        for (int i = 0; i < 20000; i++)
        {
            byte[] bytes = new byte[random.Next(0, 64)];
            random.NextBytes(bytes);
            if (bytes.Length >= 16 && random.Next(2) == 0)
            {
                BitConverter.TryWriteBytes(bytes.AsSpan(12), (uint)random.Next(0, 64));
            }

            try
            {
                if (XsFrame.TryParse(bytes, out XsHeader header, out int length))
                {
                    Assert.Equal(16 + (int)header.Length, length);
                    Assert.True(length <= bytes.Length);
                    var reader = new XsFrameReader(bytes.AsSpan(16, (int)header.Length));
                    while (!reader.End)
                    {
                        reader.ReadString();
                    }
                }
            }
            catch (XsProtocolException)
            {
            }
        }
    }

    private static async Task Ended(Task task)
    {
        try
        {
            await task;
        }
        catch (Exception)
        {
        }
    }

    /// <summary>Replies and events that are wrong in one way or another, or plain noise, sometimes cut short.</summary>
    private static byte[] Garbage(Random random)
    {
        byte[] bytes;
        switch (random.Next(6))
        {
            case 0:
                bytes = new byte[random.Next(1, 200)];
                random.NextBytes(bytes);
                break;
            case 1:
                bytes = RawConnection.Frame(15, 0, 0, random.Next(3) switch { 0 => "/w", 1 => "/w\0", _ => "/w\0t" });
                break;
            case 2:
                bytes = RawConnection.Frame((uint)random.Next(0, 30), (uint)random.Next(0, 4), 0, random.Next(2) == 0 ? "OK" : "ENOENT");
                break;
            case 3:
                bytes = RawConnection.Frame(16, 1, 0, "\u00ff\u00fe\0");
                break;
            case 4:
                bytes = RawConnection.Frame(2, 1, 0, "");
                BitConverter.TryWriteBytes(bytes.AsSpan(12), (uint)random.NextInt64(4097, 1L << 32));
                break;
            default:
                bytes = [.. RawConnection.Frame(4, 2, 0, "OK\0"), .. RawConnection.Frame(15, 0, 0, "/w\0t\0"), .. RawConnection.Frame(2, 1, 0, "value")];
                break;
        }

        return random.Next(3) == 0 ? bytes[..random.Next(bytes.Length + 1)] : bytes;
    }
}
