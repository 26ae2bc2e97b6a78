using System.Net.Sockets;
using System.Text;

namespace XenVmc.XenStore.Tests;

/// <summary>Byte-level access to the store: send any bytes, read back whole frames.</summary>
internal sealed class RawConnection(Socket socket) : IDisposable
{
    public Socket Socket { get; } = socket;

    /// <summary>A frame with header words little-endian and the payload given as Latin-1 text (\0 for NUL).</summary>
    public static byte[] Frame(uint type, uint requestId, uint transactionId, string payload)
    {
        byte[] body = Encoding.Latin1.GetBytes(payload);
        byte[] frame = new byte[16 + body.Length];
        BitConverter.TryWriteBytes(frame.AsSpan(0), type);
        BitConverter.TryWriteBytes(frame.AsSpan(4), requestId);
        BitConverter.TryWriteBytes(frame.AsSpan(8), transactionId);
        BitConverter.TryWriteBytes(frame.AsSpan(12), (uint)body.Length);
        body.CopyTo(frame, 16);
        return frame;
    }

    public async Task SendAsync(byte[] bytes)
    {
        int sent = 0;
        while (sent < bytes.Length)
        {
            sent += await Socket.SendAsync(bytes.AsMemory(sent), SocketFlags.None);
        }
    }

    /// <summary>Sends one frame and returns the next frame received, as hex.</summary>
    public async Task<string> ExchangeAsync(byte[] request)
    {
        await SendAsync(request);
        return Hex.Of(await ReceiveFrameAsync());
    }

    public async Task<byte[]> ReceiveFrameAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        byte[] header = await ReceiveExactlyAsync(16, cts.Token);
        int length = BitConverter.ToInt32(header, 12);
        byte[] payload = await ReceiveExactlyAsync(length, cts.Token);
        return [.. header, .. payload];
    }

    /// <summary>True if the store closed the connection (EOF or reset) within the timeout.</summary>
    public async Task<bool> IsClosedByPeerAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        byte[] buffer = new byte[4096];
        try
        {
            while (true)
            {
                if (await Socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token) == 0)
                {
                    return true;
                }
            }
        }
        catch (SocketException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public void Dispose() => Socket.Dispose();

    private async Task<byte[]> ReceiveExactlyAsync(int count, CancellationToken ct)
    {
        byte[] buffer = new byte[count];
        int filled = 0;
        while (filled < count)
        {
            int n = await Socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, ct);
            if (n == 0)
            {
                throw new EndOfStreamException($"store closed the connection after {filled} of {count} bytes");
            }

            filled += n;
        }

        return buffer;
    }
}
