using System.Net.Sockets;
using System.Text.Json;
using XenVmc.Guest.Status;

namespace XenVmc.Cli;

/// <summary>Fetches one status snapshot from the guest daemon's status socket.</summary>
internal static class StatusClient
{
    public static (StatusSnapshot Snapshot, byte[] Json) Fetch(string name)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.ReceiveTimeout = 5000;
        try
        {
            socket.Connect(StatusSocket.EndPoint(name));
        }
        catch (SocketException e)
        {
            throw new IOException($"no xenvmc-guest answers on {name} ({e.SocketErrorCode}): is the daemon running in this network namespace?", e);
        }

        using var stream = new NetworkStream(socket);
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        byte[] json = buffer.ToArray();
        var snapshot = JsonSerializer.Deserialize(json, StatusJsonContext.Default.StatusSnapshot)
            ?? throw new IOException($"the daemon on {name} sent an empty status");
        return (snapshot, json);
    }
}
