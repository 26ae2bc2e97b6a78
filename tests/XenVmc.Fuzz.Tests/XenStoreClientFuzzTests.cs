using System.Buffers.Binary;
using System.Threading.Channels;
using XenVmc.XenStore;
using XenVmc.XenStore.Protocol;
using XenVmc.XenStore.Transport;
using Xunit.Abstractions;

namespace XenVmc.Fuzz.Tests;

/// <summary>
/// The XenStore client's framing and reply parsing against a hostile store: the input is what
/// the "store" sends, one frame per request (its request id patched to the request's, so the
/// garbage reaches the reply parsers, not just the id lookup), then whatever bytes are left.
/// Every call must end with a value, <see cref="XenStoreException"/>, <see cref="XsProtocolException"/>
/// or <see cref="XenStoreConnectionException"/> (the connection failed), and never hang once the store is silent.
/// </summary>
public sealed class XenStoreClientFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public void ClientAgainstHostileStore()
    {
        var loop = new FuzzLoop("xenstore-client", output, maxLength: 3 * 4200);
        loop.Run(Seeds(), input => ExecuteAsync(input).GetAwaiter().GetResult());
        Assert.True(loop.Signatures > 10, $"only {loop.Signatures} behaviours");
    }

    internal static async Task<string> ExecuteAsync(byte[] input)
    {
        var transport = new ScriptedTransport(input);
        await using var client = XenStoreClient.FromTransport(transport);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var ct = timeout.Token;
        var outcome = new List<string>
        {
            await Try(async () => (await client.ReadStringAsync("/a", default, ct)).Length.ToString()),
            await Try(async () => (await client.DirectoryAsync("/a", default, ct)).Count.ToString()),
            await Try(async () => (await client.GetPermissionsAsync("/a", default, ct)).Count.ToString()),
            await Try(async () => (await client.StartTransactionAsync(ct)).ToString()),
        };
        if (timeout.IsCancellationRequested)
        {
            throw new TimeoutException("the client hung on a silent store");
        }

        return string.Join('/', outcome);
    }

    private static async Task<string> Try(Func<Task<string>> call)
    {
        try
        {
            return "v" + await call();
        }
        catch (XenStoreException e)
        {
            return "x" + e.Error;
        }
        catch (XsProtocolException)
        {
            return "p";
        }
        catch (XenStoreConnectionException)
        {
            return "io";
        }
    }

    internal static IEnumerable<byte[]> Seeds()
    {
        yield return [.. Frame(XsMessageType.Read, "value"u8), .. Frame(XsMessageType.Directory, "a\0b\0"u8), .. Frame(XsMessageType.GetPerms, "n0\0r1\0"u8), .. Frame(XsMessageType.TransactionStart, "17\0"u8)];
        yield return [.. Frame(XsMessageType.Error, "ENOENT\0"u8), .. Frame(XsMessageType.Error, "E2BIG\0"u8), .. Frame(XsMessageType.Error, "EACCES\0"u8), .. Frame(XsMessageType.Error, "EAGAIN\0"u8)];
        yield return [.. Frame(XsMessageType.WatchEvent, "/a\0tok\0"u8), .. Frame(XsMessageType.Read, ""u8), .. Frame(XsMessageType.DirectoryPart, "1\0a\0\0"u8), .. Frame(XsMessageType.TransactionStart, "x\0"u8)];
    }

    private static byte[] Frame(XsMessageType type, ReadOnlySpan<byte> payload) => XsFrame.Encode(type, 0, 0, payload);

    /// <summary>
    /// Answers each request written with the next frame of the script (request id patched), and
    /// after the last request the rest of the script; then end of stream.
    /// </summary>
    private sealed class ScriptedTransport(byte[] script) : IXsTransport
    {
        private readonly Channel<byte[]> _toClient = Channel.CreateUnbounded<byte[]>();
        private int _position;
        private int _requests;
        private byte[]? _current;
        private int _offset;

        public int MaxPayload => XsLimits.PayloadMax;

        public bool OneMessagePerWrite => true;

        public string Description => "fuzz script";

        public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            uint requestId = data.Length >= 8 ? BinaryPrimitives.ReadUInt32LittleEndian(data.Span[4..]) : 0;

            // The next frame answers this request; watch events before it are delivered as they are.
            while (script.Length - _position >= XsHeader.Size)
            {
                int length = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(script.AsSpan(_position + 12)), (uint)(script.Length - _position - XsHeader.Size));
                byte[] frame = script.AsSpan(_position, XsHeader.Size + length).ToArray();
                _position += frame.Length;
                bool watchEvent = BinaryPrimitives.ReadUInt32LittleEndian(frame) == (uint)XsMessageType.WatchEvent;
                if (!watchEvent)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(4), requestId);
                }

                _toClient.Writer.TryWrite(frame);
                if (!watchEvent)
                {
                    break;
                }
            }

            if (++_requests >= 4 || script.Length - _position < XsHeader.Size)
            {
                _toClient.Writer.TryWrite(script[_position..]);
                _position = script.Length;
                _toClient.Writer.TryComplete();
            }

            return ValueTask.CompletedTask;
        }

        public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
        {
            while (_current is null || _offset == _current.Length)
            {
                if (!await _toClient.Reader.WaitToReadAsync(cancellationToken) || !_toClient.Reader.TryRead(out _current))
                {
                    return 0;
                }

                _offset = 0;
            }

            int n = Math.Min(_current.Length - _offset, buffer.Length);
            _current.AsSpan(_offset, n).CopyTo(buffer.Span);
            _offset += n;
            return n;
        }

        public void Dispose() => _toClient.Writer.TryComplete();
    }
}
