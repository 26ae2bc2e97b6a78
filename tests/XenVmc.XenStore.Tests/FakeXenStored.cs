using System.Net.Sockets;

namespace XenVmc.XenStore.Tests;

/// <summary>
/// A scripted server end for client tests: a listening unix socket in a temp dir; the test reads the
/// client's bytes and writes whatever reply bytes it wants, well-formed or not.
/// </summary>
internal sealed class FakeXenStored : IAsyncDisposable
{
    private readonly string _directory;
    private readonly Socket _listener;
    private Socket? _peer;

    public FakeXenStored()
    {
        _directory = Path.Combine(Path.GetTempPath(), "xs-fake-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(_directory);
        SocketPath = Path.Combine(_directory, "socket");
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
        _listener.Listen(4);
    }

    public string SocketPath { get; }

    /// <summary>Connects a client and accepts its connection.</summary>
    public async Task<XenStoreClient> ConnectAsync()
    {
        Task<Socket> accept = _listener.AcceptAsync();
        XenStoreClient client = XenStoreClient.ConnectSocket(SocketPath);
        _peer = await accept.WaitAsync(TimeSpan.FromSeconds(10));
        return client;
    }

    /// <summary>Accepts the next connection, for tests that connect their own way.</summary>
    public async Task<Socket> AcceptAsync()
    {
        _peer = await _listener.AcceptAsync().WaitAsync(TimeSpan.FromSeconds(10));
        return _peer;
    }

    public Socket Peer => _peer ?? throw new InvalidOperationException("no client connected");

    /// <summary>Reads one whole frame (header + payload) the client sent.</summary>
    public async Task<byte[]> ReceiveFrameAsync()
    {
        byte[] header = await ReceiveExactlyAsync(16);
        int length = BitConverter.ToInt32(header, 12);
        byte[] payload = await ReceiveExactlyAsync(length);
        return [.. header, .. payload];
    }

    public async Task SendAsync(byte[] bytes)
    {
        int sent = 0;
        while (sent < bytes.Length)
        {
            sent += await Peer.SendAsync(bytes.AsMemory(sent), SocketFlags.None);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _peer?.Dispose();
        _listener.Dispose();
        await Task.Yield();
        Directory.Delete(_directory, recursive: true);
    }

    private async Task<byte[]> ReceiveExactlyAsync(int count)
    {
        byte[] buffer = new byte[count];
        int filled = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (filled < count)
        {
            int n = await Peer.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, timeout.Token);
            if (n == 0)
            {
                throw new EndOfStreamException($"client closed after {filled} of {count} bytes");
            }

            filled += n;
        }

        return buffer;
    }
}
