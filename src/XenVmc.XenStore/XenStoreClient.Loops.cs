using System.Net.Sockets;
using XenVmc.XenStore.Protocol;

namespace XenVmc.XenStore;

public sealed partial class XenStoreClient
{
    /// <summary>Coalesced writes stop growing here; one frame is at most 4112 bytes.</summary>
    private const int WriteBatchBytes = 64 * 1024;

    private async Task WriteLoopAsync()
    {
        byte[] batch = new byte[WriteBatchBytes];
        try
        {
            while (await _outgoing.Reader.WaitToReadAsync(_shutdown.Token).ConfigureAwait(false))
            {
                if (_outgoing.Reader.TryPeek(out byte[]? next) && IsWatchRequest(next))
                {
                    // Alone on the wire: every earlier reply in, and no request after it until its own
                    // reply is in. Linux's /dev/xen/xenbus holds the file's message mutex while it
                    // registers or unregisters a watch with xenstored, and its xenbus thread needs that
                    // mutex to hand the file any earlier reply, which comes first: a watch request
                    // behind an unanswered one deadlocks the guest's whole xenbus (xenbus_dev_queue_reply
                    // waits for the mutex unregister_xenbus_watch holds while it waits for xenstored).
                    await WhenAnsweredAsync().ConfigureAwait(false);
                    _outgoing.Reader.TryRead(out byte[]? watch);
                    Interlocked.Increment(ref _unanswered);
                    await _transport.WriteAsync(watch!, _shutdown.Token).ConfigureAwait(false);
                    await WhenAnsweredAsync().ConfigureAwait(false);
                    continue;
                }

                if (_transport.OneMessagePerWrite)
                {
                    while (TryTakeRequest(out byte[]? frame))
                    {
                        await _transport.WriteAsync(frame, _shutdown.Token).ConfigureAwait(false);
                    }

                    continue;
                }

                int used = 0;
                while (used + XsLimits.FrameMax <= batch.Length && TryTakeRequest(out byte[]? frame))
                {
                    frame.CopyTo(batch, used);
                    used += frame.Length;
                }

                if (used > 0)
                {
                    await _transport.WriteAsync(batch.AsMemory(0, used), _shutdown.Token).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (IsShutdown(e))
        {
        }
        catch (Exception e)
        {
            Shutdown(new XenStoreConnectionException($"writing to XenStore at {_transport.Description} failed: {e.Message}", e));
        }
    }

    private async Task ReadLoopAsync()
    {
        // Room for two maximal frames so one is always complete before compaction.
        byte[] buffer = new byte[2 * XsLimits.FrameMax];
        int filled = 0;
        try
        {
            while (true)
            {
                int n = await _transport.ReadAsync(buffer.AsMemory(filled), _shutdown.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    Shutdown(new XenStoreConnectionException($"XenStore at {_transport.Description} closed the connection"));
                    return;
                }

                filled += n;
                int consumed = 0;
                while (XsFrame.TryParse(buffer.AsSpan(consumed, filled - consumed), out XsHeader header, out int frameLength))
                {
                    Dispatch(header, buffer.AsSpan(consumed + XsHeader.Size, (int)header.Length));
                    consumed += frameLength;
                }

                buffer.AsSpan(consumed, filled - consumed).CopyTo(buffer);
                filled -= consumed;
            }
        }
        catch (Exception e) when (IsShutdown(e))
        {
        }
        catch (XsProtocolException e)
        {
            Shutdown(e);
        }
        catch (Exception e)
        {
            Shutdown(new XenStoreConnectionException($"reading from XenStore at {_transport.Description} failed: {e.Message}", e));
        }
    }

    private void Dispatch(XsHeader header, ReadOnlySpan<byte> payload)
    {
        if (header.Type == XsMessageType.WatchEvent)
        {
            (string path, string token) = XsReplies.WatchEvent(payload);
            _watches.Deliver(path, token);
            return;
        }

        Answered();

        // A reply nobody waits for belongs to a cancelled call; it is dropped.
        if (_pending.TryRemove(header.RequestId, out PendingRequest? pending))
        {
            pending.TrySetResult(new XsReply(header.Type, payload.ToArray()));
        }
    }

    /// <summary>Takes the next queued frame, counted as unanswered, unless it is a watch request (those go alone).</summary>
    private bool TryTakeRequest([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out byte[]? frame)
    {
        if (!_outgoing.Reader.TryPeek(out frame) || IsWatchRequest(frame))
        {
            frame = null;
            return false;
        }

        _outgoing.Reader.TryRead(out _);
        Interlocked.Increment(ref _unanswered);
        return true;
    }

    private static bool IsWatchRequest(byte[] frame) =>
        XsHeader.Read(frame).Type is XsMessageType.Watch or XsMessageType.Unwatch;

    /// <summary>One reply came in (cancelled calls' too): one request fewer on the wire.</summary>
    private void Answered()
    {
        int left;
        do
        {
            left = Volatile.Read(ref _unanswered);
        }
        while (left > 0 && Interlocked.CompareExchange(ref _unanswered, left - 1, left) != left);

        if (left <= 1)
        {
            lock (_answeredLock)
            {
                _allAnswered?.TrySetResult();
                _allAnswered = null;
            }
        }
    }

    /// <summary>Completes once every request written so far has its reply.</summary>
    private Task WhenAnsweredAsync()
    {
        lock (_answeredLock)
        {
            if (Volatile.Read(ref _unanswered) == 0)
            {
                return Task.CompletedTask;
            }

            _allAnswered ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _allAnswered.Task.WaitAsync(_shutdown.Token);
        }
    }

    /// <summary>Errors that only mean "we are closing": not worth a fault.</summary>
    private bool IsShutdown(Exception e) =>
        Volatile.Read(ref _failure) is not null &&
        e is OperationCanceledException or ObjectDisposedException or SocketException or IOException;
}
