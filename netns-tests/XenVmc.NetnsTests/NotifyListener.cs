using System.Net.Sockets;
using System.Text;

namespace XenVmc.NetnsTests;

/// <summary>
/// A stand-in for systemd's notify socket: a real AF_UNIX datagram socket (a path or an abstract
/// name) that collects what a daemon sends to $NOTIFY_SOCKET, one datagram per message.
/// </summary>
internal sealed class NotifyListener : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);

    /// <param name="address">"/path" or "@abstract", exactly as $NOTIFY_SOCKET will hold it</param>
    public NotifyListener(string address)
    {
        Address = address;
        _socket.Bind(new UnixDomainSocketEndPoint(address[0] == '@' ? "\0" + address[1..] : address));
    }

    public string Address { get; }

    /// <summary>The next datagram, or null when none arrives within <paramref name="timeout"/>.</summary>
    public string? Receive(TimeSpan timeout)
    {
        if (!_socket.Poll(timeout, SelectMode.SelectRead))
        {
            return null;
        }

        byte[] buffer = new byte[4096];
        int n = _socket.Receive(buffer);
        return Encoding.UTF8.GetString(buffer, 0, n);
    }

    /// <summary>Receives until a datagram contains <paramref name="line"/>; returns every datagram seen, that one last.</summary>
    public List<string> ReceiveUntil(string line, TimeSpan timeout)
    {
        var seen = new List<string>();
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (Environment.TickCount64 < deadline)
        {
            string? message = Receive(TimeSpan.FromMilliseconds(Math.Max(1, deadline - Environment.TickCount64)));
            if (message is null)
            {
                break;
            }

            seen.Add(message);
            if (message.Split('\n').Contains(line))
            {
                return seen;
            }
        }

        throw new TimeoutException($"no '{line}' within {timeout.TotalSeconds} s; received: [{string.Join(" | ", seen.Select(s => s.Replace('\n', ';')))}]");
    }

    public void Dispose() => _socket.Dispose();
}
