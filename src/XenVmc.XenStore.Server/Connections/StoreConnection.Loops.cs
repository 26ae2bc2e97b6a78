using System.Net.Sockets;
using XenVmc.XenStore.Protocol;

namespace XenVmc.XenStore.Server.Connections;

internal sealed partial class StoreConnection
{
    /// <summary>Runs the connection until either side closes it; never throws.</summary>
    public async Task RunAsync()
    {
        Task writer = WriteLoopAsync();
        string reason = "closed by the client";
        try
        {
            reason = await ReadLoopAsync().ConfigureAwait(false);
        }
        catch (XsProtocolException e)
        {
            // xenstored drops a client that announces an oversized message: the stream cannot be resynchronised.
            reason = e.Message;
        }
        catch (Exception e) when (Closing && e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            reason = "closed by the store";
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            reason = e.Message;
        }
        catch (Exception e)
        {
            Log.ConnectionFailed(_logger, this, e);
            reason = "internal error";
        }
        finally
        {
            Abort(reason);
            _engine.Disconnect(this);
            _output.Writer.TryComplete();
            try
            {
                await writer.ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException or IOException)
            {
            }

            _socket.Dispose();
        }
    }

    /// <summary>Returns why the connection ended.</summary>
    private async Task<string> ReadLoopAsync()
    {
        byte[] buffer = new byte[2 * XsLimits.FrameMax];
        int filled = 0;
        CancellationToken stop = _stop.Token;
        while (true)
        {
            int consumed = 0;
            while (XsFrame.TryParse(buffer.AsSpan(consumed, filled - consumed), out XsHeader header, out int frameLength))
            {
                if (_outstanding is not null)
                {
                    await _outstanding.WaitAsync(stop).ConfigureAwait(false);
                }

                _engine.Process(this, header, buffer.AsSpan(consumed + XsHeader.Size, (int)header.Length));
                consumed += frameLength;
                if (Closing)
                {
                    return "closed by the store";
                }
            }

            buffer.AsSpan(consumed, filled - consumed).CopyTo(buffer);
            filled -= consumed;
            int n = await _socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, stop).ConfigureAwait(false);
            if (n == 0)
            {
                return filled == 0 ? "closed by the client" : $"closed by the client in the middle of a message ({filled} bytes)";
            }

            filled += n;
        }
    }

    /// <summary>
    /// A failed write ends the whole connection: otherwise the reader of an unprivileged domain would
    /// wait forever for outstanding-request slots that only sent replies give back.
    /// </summary>
    private async Task WriteLoopAsync()
    {
        try
        {
            await WriteFramesAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (!Closing && e is SocketException or IOException or ObjectDisposedException)
        {
            Abort($"write failed: {e.Message}");
        }
    }

    private async Task WriteFramesAsync()
    {
        byte[] batch = new byte[WriteBatchBytes];
        CancellationToken stop = _stop.Token;
        while (await _output.Reader.WaitToReadAsync(stop).ConfigureAwait(false))
        {
            int used = 0;
            int replies = 0;
            while (used + XsLimits.FrameMax <= batch.Length && _output.Reader.TryRead(out Outgoing item))
            {
                item.Frame.CopyTo(batch, used);
                used += item.Frame.Length;
                replies += item.IsReply ? 1 : 0;
            }

            ReadOnlyMemory<byte> pending = batch.AsMemory(0, used);
            while (!pending.IsEmpty)
            {
                int sent = await _socket.SendAsync(pending, SocketFlags.None, stop).ConfigureAwait(false);
                pending = pending[sent..];
            }

            Interlocked.Add(ref _queuedBytes, -used);
            if (replies > 0)
            {
                _outstanding?.Release(replies);
            }
        }
    }
}
