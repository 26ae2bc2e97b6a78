using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace XenVmc.XenStore.Server.Connections;

/// <summary>
/// A listening unix socket whose every connection speaks for one domain: the main socket for Dom0,
/// or <c>&lt;dir&gt;/N</c> for domain N.
/// </summary>
// Design: one accept loop per socket; each accepted connection runs on its own, so a slow client never delays accept.
internal sealed class SocketListener
{
    private readonly Socket _socket;
    private readonly Action<Socket, uint> _accepted;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private int _stopped;

    private SocketListener(Socket socket, string path, uint domid, Action<Socket, uint> accepted, ILogger logger)
    {
        _socket = socket;
        Path = path;
        DomId = domid;
        _accepted = accepted;
        _logger = logger;
        Completion = AcceptLoopAsync();
    }

    public string Path { get; }

    public uint DomId { get; }

    /// <summary>Ends when the listener is stopped; faults if accepting failed for another reason.</summary>
    public Task Completion { get; }

    /// <summary>Binds and listens; a leftover socket file from an earlier run is replaced, a live one is not.</summary>
    public static SocketListener Start(string path, uint domid, Action<Socket, uint> accepted, ILogger logger)
    {
        if (File.Exists(path))
        {
            if (IsLive(path))
            {
                throw new IOException($"{path} is in use: another store is listening there");
            }

            File.Delete(path);
        }

        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            socket.Bind(new UnixDomainSocketEndPoint(path));
            socket.Listen(128);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new SocketListener(socket, path, domid, accepted, logger);
    }

    /// <summary>Stops accepting and removes the socket file; connections already accepted are the caller's to close.</summary>
    public void Stop()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        _stop.Cancel();
        _socket.Dispose();
        try
        {
            File.Delete(Path);
        }
        catch (IOException e)
        {
            Log.SocketRemoveFailed(_logger, Path, e);
        }
    }

    private static bool IsLive(string path)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private async Task AcceptLoopAsync()
    {
        await Task.Yield();
        while (true)
        {
            Socket client;
            try
            {
                client = await _socket.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (Volatile.Read(ref _stopped) != 0 && e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionAborted or SocketError.Interrupted)
            {
                continue;
            }

            _accepted(client, DomId);
        }
    }
}
