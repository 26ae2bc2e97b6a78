using System.Net.Sockets;
using System.Text;

namespace XenVmc.XenStore.Tests;

/// <summary>
/// The store against hostile clients: random frames, oversized lengths, truncations, a client that
/// never reads. It must answer or drop the offending connection, and everybody else keeps working.
/// </summary>
public sealed class StoreConnectionTests
{
    private static readonly string[] Paths =
    [
        "/a", "/a/b", "/", "/tool/xenstored", "@introduceDomain", "@releaseDomain", "rel/x", "", "/a/", "//", "/bad path",
        "/local/domain/5/data/x", "/" + new string('z', 3100), "\u00ff\u0001",
    ];

    [Fact]
    public async Task Random_frames_are_answered_or_drop_only_their_connection()
    {
        await using TestStore store = await TestStore.StartAsync();
        await using XenStoreClient bystander = store.Dom0();
        await bystander.WriteAsync("/bystander", "ok");
        await using XsWatch watch = await bystander.WatchAsync("/", "all");

        var random = new Random(20261122);
        RawConnection? connection = null;
        int answered = 0, dropped = 0;
        try
        {
            for (int i = 0; i < 3000; i++)
            {
                connection ??= new RawConnection(store.RawDom0());
                (byte[] frame, bool fatal) = RandomFrame(random, (uint)(i + 1));
                if (random.Next(50) == 0)
                {
                    // Truncated: the store sees EOF in the middle of a message and closes.
                    await connection.SendAsync(frame[..random.Next(frame.Length)]);
                    connection.Socket.Shutdown(SocketShutdown.Send);
                    Assert.True(await connection.IsClosedByPeerAsync(TimeSpan.FromSeconds(10)), $"frame {i}: truncated stream not closed");
                    connection.Dispose();
                    connection = null;
                    dropped++;
                    continue;
                }

                await connection.SendAsync(frame);
                if (fatal)
                {
                    Assert.True(await connection.IsClosedByPeerAsync(TimeSpan.FromSeconds(10)), $"frame {i}: oversized length did not drop the connection");
                    connection.Dispose();
                    connection = null;
                    dropped++;
                    continue;
                }

                byte[] reply = await ReceiveReplyAsync(connection, (uint)(i + 1));
                uint type = BitConverter.ToUInt32(reply, 0);
                Assert.True(type == BitConverter.ToUInt32(frame, 0) || type == 16, $"frame {i}: reply type {type}");
                Assert.Equal(BitConverter.ToUInt32(frame, 8), BitConverter.ToUInt32(reply, 8));
                answered++;

                if (i % 500 == 0)
                {
                    Assert.Equal("ok", await bystander.ReadStringAsync("/bystander").WaitAsync(TimeSpan.FromSeconds(10)));
                }
            }
        }
        finally
        {
            connection?.Dispose();
        }

        Assert.True(answered > 2000, $"only {answered} frames answered");
        Assert.True(dropped > 20, $"only {dropped} connections dropped");
        Assert.Equal("ok", await bystander.ReadStringAsync("/bystander").WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.False(bystander.Closed.IsCompleted);
    }

    [Fact]
    public async Task A_client_that_never_reads_is_dropped_not_waited_for()
    {
        await using TestStore store = await TestStore.StartAsync(outputQueueBytes: 256 * 1024);
        await using XenStoreClient writer = store.Dom0();
        using var stuck = new RawConnection(store.RawDom0());
        stuck.Socket.ReceiveBufferSize = 4096;

        // The stuck client watches everything and never reads: its socket buffer fills, then its queue.
        await stuck.SendAsync(RawConnection.Frame(4, 1, 0, "/\0stuck\0"));
        // Each event carries its ~1 KB path: 5000 of them are far more than sockets and the queue hold.
        string deep = "/flood/" + string.Join('/', Enumerable.Repeat(new string('d', 99), 10));
        var elapsed = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < 5000; i++)
        {
            await writer.WriteAsync($"{deep}/{i % 50}", "v").WaitAsync(TimeSpan.FromSeconds(10));
        }

        Assert.True(elapsed.Elapsed < TimeSpan.FromSeconds(30));
        Assert.True(await stuck.IsClosedByPeerAsync(TimeSpan.FromSeconds(10)), "the stuck client was not disconnected");
        Assert.Equal("v", await writer.ReadStringAsync($"{deep}/7"));
    }

    [Fact]
    public async Task Unprivileged_domain_may_have_only_its_outstanding_quota_of_unsent_replies()
    {
        var quotas = new XenVmc.XenStore.Server.StoreQuotas { OutstandingRequests = 4 };
        await using TestStore store = await TestStore.StartAsync(quotas);
        await using XenStoreClient dom0 = store.Dom0();
        await store.IntroduceGuestAsync(dom0, 5);
        using var guest = new RawConnection(new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified));
        guest.Socket.Connect(new UnixDomainSocketEndPoint(store.DomainSocket(5)));

        // Pipelined requests all get answered, in order, although only 4 may be unsent at a time.
        var batch = new List<byte>();
        for (uint i = 1; i <= 200; i++)
        {
            batch.AddRange(RawConnection.Frame(10, i, 0, "5\0"));
        }

        await guest.SendAsync([.. batch]);
        for (uint i = 1; i <= 200; i++)
        {
            byte[] reply = await guest.ReceiveFrameAsync();
            Assert.Equal(i, BitConverter.ToUInt32(reply, 4));
        }
    }

    private static async Task<byte[]> ReceiveReplyAsync(RawConnection connection, uint requestId)
    {
        while (true)
        {
            byte[] frame = await connection.ReceiveFrameAsync();
            if (BitConverter.ToUInt32(frame, 0) == 15)
            {
                continue; // a watch event for a WATCH the fuzzer registered
            }

            Assert.Equal(requestId, BitConverter.ToUInt32(frame, 4));
            return frame;
        }
    }

    private static (byte[] Frame, bool Fatal) RandomFrame(Random random, uint requestId)
    {
        uint type = random.Next(10) == 0 ? (uint)random.NextInt64(0, 1L << 32) : (uint)random.Next(0, 30);
        if (type is 8 or 9 or 19)
        {
            type = 2; // INTRODUCE/RELEASE/SET_TARGET of random domains only add sockets; covered elsewhere
        }

        uint tx = random.Next(4) == 0 ? (uint)random.Next(0, 5) : 0;
        byte[] payload = RandomPayload(random);
        if (random.Next(100) == 0)
        {
            // Announce more than XENSTORE_PAYLOAD_MAX: xenstored drops such a client.
            byte[] header = new byte[16];
            BitConverter.TryWriteBytes(header.AsSpan(0), type);
            BitConverter.TryWriteBytes(header.AsSpan(4), requestId);
            BitConverter.TryWriteBytes(header.AsSpan(8), tx);
            BitConverter.TryWriteBytes(header.AsSpan(12), (uint)random.NextInt64(4097, 1L << 32));
            return (header, true);
        }

        byte[] frame = new byte[16 + payload.Length];
        BitConverter.TryWriteBytes(frame.AsSpan(0), type);
        BitConverter.TryWriteBytes(frame.AsSpan(4), requestId);
        BitConverter.TryWriteBytes(frame.AsSpan(8), tx);
        BitConverter.TryWriteBytes(frame.AsSpan(12), (uint)payload.Length);
        payload.CopyTo(frame, 16);
        return (frame, false);
    }

    private static byte[] RandomPayload(Random random)
    {
        switch (random.Next(4))
        {
            case 0:
                byte[] noise = new byte[random.Next(0, 4097)];
                random.NextBytes(noise);
                return noise;
            case 1:
                return [];
            default:
                var text = new StringBuilder();
                int parts = random.Next(1, 5);
                for (int p = 0; p < parts; p++)
                {
                    text.Append(random.Next(4) switch
                    {
                        0 => Paths[random.Next(Paths.Length)],
                        1 => random.Next(-5, 70000).ToString(System.Globalization.CultureInfo.InvariantCulture),
                        2 => "rnbw"[random.Next(4)] + random.Next(0, 10).ToString(System.Globalization.CultureInfo.InvariantCulture),
                        _ => "T",
                    });
                    if (random.Next(6) != 0)
                    {
                        text.Append('\0');
                    }
                }

                return Encoding.Latin1.GetBytes(text.ToString());
        }
    }
}
