using System.Net.Sockets;
using XenVmc.XenStore;
using XenVmc.XenStore.Protocol;
using XenVmc.XenStore.Server;
using Xunit.Abstractions;

namespace XenVmc.Fuzz.Tests;

/// <summary>
/// The simulated xenstored's framing and request handling against a hostile client: each input
/// is sent raw on a fresh Dom0 connection, then the connection is half-closed. The store must
/// answer with frames our own client parses (the two framings agree), close the connection
/// rather than hang, and keep serving: a real client does a write/read round trip every few
/// hundred inputs and at the end.
/// </summary>
public sealed class XenStoreServerFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public async Task StoreAgainstHostileClient()
    {
        string directory = Directory.CreateTempSubdirectory("xenvmc-fuzz-store-").FullName;
        try
        {
            var options = new StoreOptions { SocketPath = Path.Combine(directory, "socket") };
            await using var server = await StoreServer.StartAsync(options);
            var loop = new FuzzLoop("xenstore-server", output, maxLength: 2 * 4200);
            int runs = 0;
            loop.Run(Seeds(), input =>
            {
                string signature = ExecuteAsync(options.SocketPath, input).GetAwaiter().GetResult();
                if (++runs % 500 == 0)
                {
                    RoundTripAsync(options.SocketPath).GetAwaiter().GetResult();
                }

                return signature;
            });
            await RoundTripAsync(options.SocketPath);
            Assert.False(server.Completion.IsCompleted, "the store stopped");
            Assert.True(loop.Signatures > 10, $"only {loop.Signatures} behaviours");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<string> ExecuteAsync(string socketPath, byte[] input)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await socket.SendAsync(input, SocketFlags.None, timeout.Token);
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            // The store may close on the first bad frame, before we finished sending.
        }

        var received = new MemoryStream();
        byte[] buffer = new byte[65536];
        try
        {
            int n;
            while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token)) > 0)
            {
                received.Write(buffer, 0, n);
            }
        }
        catch (SocketException)
        {
            // A reset is a close too.
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException("the store neither answered nor closed within 5 s of a half-closed connection");
        }

        // Every byte the store sent must frame, for our client, into whole, valid replies.
        var replies = new List<string>();
        ReadOnlySpan<byte> rest = received.ToArray();
        while (XsFrame.TryParse(rest, out var header, out int length))
        {
            var payload = rest.Slice(XsHeader.Size, (int)header.Length);
            replies.Add(header.Type == XsMessageType.Error ? XsReplies.Error(payload).Name : header.Type.ToString());
            rest = rest[length..];
        }

        if (!rest.IsEmpty)
        {
            throw new InvalidOperationException($"the store sent {rest.Length} bytes that are not a whole frame");
        }

        return string.Join(',', replies.Take(4)) + (replies.Count > 4 ? "+" : "");
    }

    private static async Task RoundTripAsync(string socketPath)
    {
        await using var client = XenStoreClient.ConnectSocket(socketPath);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await client.WriteAsync("/fuzz-probe", "alive", default, timeout.Token);
        Assert.Equal("alive", await client.ReadStringAsync("/fuzz-probe", default, timeout.Token));
    }

    private static IEnumerable<byte[]> Seeds()
    {
        static byte[] F(XsMessageType type, string payload, uint tx = 0) => XsFrame.Encode(type, 7, tx, System.Text.Encoding.Latin1.GetBytes(payload));
        yield return [.. F(XsMessageType.Write, "/local/domain/1/x\0value"), .. F(XsMessageType.Read, "/local/domain/1/x\0")];
        yield return [.. F(XsMessageType.Mkdir, "/a/b\0"), .. F(XsMessageType.Directory, "/a\0"), .. F(XsMessageType.GetPerms, "/a\0")];
        yield return [.. F(XsMessageType.SetPerms, "/a\0n0\0r1\0"), .. F(XsMessageType.Rm, "/a\0")];
        yield return [.. F(XsMessageType.TransactionStart, "\0"), .. F(XsMessageType.Write, "/t\0v", 1), .. F(XsMessageType.TransactionEnd, "T\0", 1)];
        yield return [.. F(XsMessageType.Watch, "/a\0tok\0"), .. F(XsMessageType.Write, "/a\0v"), .. F(XsMessageType.Unwatch, "/a\0tok\0")];
        yield return [.. F(XsMessageType.Introduce, "5\0" + "4660\0" + "1\0"), .. F(XsMessageType.IsDomainIntroduced, "5\0"), .. F(XsMessageType.GetDomainPath, "5\0"), .. F(XsMessageType.Release, "5\0")];
        yield return [.. F(XsMessageType.DirectoryPart, "/\0" + "0\0"), .. F(XsMessageType.ResetWatches, ""), .. F(XsMessageType.GetQuota, "\0")];
    }
}
