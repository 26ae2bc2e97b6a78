using System.Collections.Concurrent;
using System.Threading.Channels;
using XenVmc.XenStore.Protocol;
using XenVmc.XenStore.Transport;

namespace XenVmc.XenStore;

/// <summary>
/// A connection to XenStore speaking the xs_wire protocol: over xenstored's unix socket (dom0, or a
/// simulated domain socket) or over /dev/xen/xenbus (a guest).
/// </summary>
// Design: requests are pipelined. Each call takes a fresh req_id, parks a completion in
// _pending and queues its frame; one writer loop drains the queue onto the transport
// (coalescing frames where the transport allows), one reader loop parses the byte stream and
// completes the call whose req_id the reply carries, or hands a watch event to the
// XsWatch owning its token through an unbounded channel, so a slow consumer of events
// never stalls replies. Any transport error or protocol violation from the server is fatal to the
// connection: Closed faults with it, every pending call fails with it, watch channels
// complete with it. Completions run asynchronously so user continuations never run on the reader loop.
// WATCH and UNWATCH are the exception to pipelining: each goes out alone (see WriteLoopAsync).
// Errors follow one contract (XenStoreFailure): XS_ERROR replies are XenStoreException, a
// connection that is gone or was never made is XenStoreConnectionException, and nothing else is
// thrown for the store's sake.
public sealed partial class XenStoreClient : IAsyncDisposable
{
    private readonly IXsTransport _transport;
    private readonly ConcurrentDictionary<uint, PendingRequest> _pending = new();
    private readonly Channel<byte[]> _outgoing = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _shutdown = new();
    private readonly WatchTable _watches = new();
    private readonly Task _readerTask;
    private readonly Task _writerTask;
    private readonly Lock _answeredLock = new();
    private TaskCompletionSource? _allAnswered;
    private int _unanswered;
    private Exception? _failure;
    private int _nextRequestId;

    private XenStoreClient(IXsTransport transport)
    {
        _transport = transport;
        _readerTask = Task.Run(ReadLoopAsync);
        _writerTask = Task.Run(WriteLoopAsync);
    }

    /// <summary>Completes when the transport ends: successfully after <see cref="DisposeAsync"/>, faulted with the reason otherwise.</summary>
    public Task Closed => _closed.Task;

    public async ValueTask DisposeAsync()
    {
        Shutdown(null);
        await Task.WhenAll(_readerTask, _writerTask).ConfigureAwait(false);
        _shutdown.Dispose();
    }

    /// <summary>Sends one request and returns the reply payload; XS_ERROR replies throw <see cref="XenStoreException"/>.</summary>
    private async Task<byte[]> RequestAsync(XsMessageType type, XsTransaction tx, byte[] payload, string? path, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (payload.Length > _transport.MaxPayload)
        {
            // xenstored would drop the whole connection (and the xenbus device refuse the write),
            // so an oversized request fails alone, here, with the errno the device uses.
            throw new XenStoreException(XsError.E2BIG, type.WireName(), path);
        }

        uint requestId = unchecked((uint)Interlocked.Increment(ref _nextRequestId));
        var pending = new PendingRequest();
        _pending[requestId] = pending;

        // A failure racing with the registration above would have missed this entry.
        if (Volatile.Read(ref _failure) is Exception failure)
        {
            _pending.TryRemove(requestId, out _);
            throw Wrap(failure);
        }

        if (!_outgoing.Writer.TryWrite(XsFrame.Encode(type, requestId, tx.Id, payload)))
        {
            _pending.TryRemove(requestId, out _);
            throw Wrap(Volatile.Read(ref _failure) ?? new ObjectDisposedException(nameof(XenStoreClient), "the XenStore client was disposed"));
        }

        XsReply reply;
        using (cancellationToken.Register(
            static (state, ct) =>
            {
                var (client, id) = ((XenStoreClient, uint))state!;
                client.CancelPending(id, ct);
            },
            (this, requestId)))
        {
            reply = await pending.Task.ConfigureAwait(false);
        }

        if (reply.Type == XsMessageType.Error)
        {
            (XsError error, string name) = XsReplies.Error(reply.Payload);
            throw new XenStoreException(error, name, type.WireName(), path);
        }

        if (reply.Type != type)
        {
            throw new XsProtocolException($"XenStore answered {type.WireName()} with {reply.Type.WireName()}");
        }

        return reply.Payload;
    }

    private void CancelPending(uint requestId, CancellationToken cancellationToken)
    {
        // The reply, if it still comes, finds no entry and is dropped.
        if (_pending.TryRemove(requestId, out PendingRequest? pending))
        {
            pending.TrySetCanceled(cancellationToken);
        }
    }

    /// <summary>Ends the connection once; <paramref name="failure"/> null means an orderly close.</summary>
    private void Shutdown(Exception? failure)
    {
        Exception reason = failure ?? new ObjectDisposedException(nameof(XenStoreClient), "the XenStore client was disposed");
        if (Interlocked.CompareExchange(ref _failure, reason, null) is not null)
        {
            return;
        }

        _outgoing.Writer.TryComplete();
        _shutdown.Cancel();
        _transport.Dispose();
        foreach (uint id in _pending.Keys)
        {
            if (_pending.TryRemove(id, out PendingRequest? pending))
            {
                pending.TrySetException(Wrap(reason));
            }
        }

        _watches.CompleteAll(failure);
        if (failure is null)
        {
            _closed.TrySetResult();
        }
        else
        {
            _closed.TrySetException(failure);
        }
    }

    /// <summary>A fresh exception for one more call failing on a connection that is gone (see <see cref="XenStoreFailure"/>).</summary>
    private static XenStoreConnectionException Wrap(Exception failure) => failure switch
    {
        XsProtocolException e => new XsProtocolException(e.Message, e),
        ObjectDisposedException e => new XenStoreConnectionException(e.Message, e),
        _ => new XenStoreConnectionException($"XenStore connection failed: {failure.Message}", failure),
    };
}
