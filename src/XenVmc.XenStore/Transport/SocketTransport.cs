using System.Net.Sockets;

namespace XenVmc.XenStore.Transport;

/// <summary>An AF_UNIX stream connection: the dom0 socket of xenstored or a simulated domain socket.</summary>
internal sealed class SocketTransport : IXsTransport
{
    private readonly Socket _socket;

    private SocketTransport(Socket socket, string path)
    {
        _socket = socket;
        Description = path;
    }

    public int MaxPayload => Protocol.XsLimits.PayloadMax;

    public bool OneMessagePerWrite => false;

    public string Description { get; }

    public static SocketTransport Connect(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
            return new SocketTransport(socket, path);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new XenStoreConnectionException($"cannot connect to XenStore socket {path}: {e.Message}", e);
        }
    }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (!data.IsEmpty)
        {
            int sent = await _socket.SendAsync(data, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            data = data[sent..];
        }
    }

    public ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
        _socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);

    public void Dispose()
    {
        // Shutdown first so a receive pending in the reader loop returns at once.
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }

        _socket.Dispose();
    }
}
