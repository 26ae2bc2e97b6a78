using System.Net.Sockets;
using System.Text.Json;

namespace XenVmc.Guest.Status;

/// <summary>
/// Answers every connection on the status socket with one JSON snapshot, then closes it. The
/// default socket is abstract (<c>@xenvmc-guest</c>), so each network namespace — each simulated
/// guest — has its own.
/// </summary>
internal sealed class StatusServer : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly Func<StatusSnapshot> _snapshot;
    private readonly GuestLog _log;
    private readonly Task _loop;
    private readonly string? _path;

    private StatusServer(Socket listener, string? path, Func<StatusSnapshot> snapshot, GuestLog log)
    {
        _listener = listener;
        _path = path;
        _snapshot = snapshot;
        _log = log;
        _loop = Task.Run(AcceptLoopAsync);
    }

    public static StatusServer Start(string name, Func<StatusSnapshot> snapshot, GuestLog log)
    {
        string? path = name.StartsWith('@') ? null : name;
        if (path is not null)
        {
            File.Delete(path);
        }

        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(StatusSocket.EndPoint(name));
            listener.Listen(8);
        }
        catch (SocketException e)
        {
            listener.Dispose();
            throw new IOException($"status socket {name}: {e.Message} (is another xenvmc-guest running here?)", e);
        }

        return new StatusServer(listener, path, snapshot, log);
    }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            using (client)
            {
                try
                {
                    byte[] json = JsonSerializer.SerializeToUtf8Bytes(_snapshot(), StatusJsonContext.Default.StatusSnapshot);
                    await client.SendAsync(json).ConfigureAwait(false);
                    client.Shutdown(SocketShutdown.Send);
                }
                catch (SocketException e)
                {
                    _log.StatusFailed(e.Message);
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        await _loop.ConfigureAwait(false);
        if (_path is not null)
        {
            File.Delete(_path);
        }
    }
}
