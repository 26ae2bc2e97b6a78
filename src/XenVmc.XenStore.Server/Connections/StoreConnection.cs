using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using XenVmc.XenStore.Protocol;
using XenVmc.XenStore.Server.Engine;
using XenVmc.XenStore.Server.Store;
using XenVmc.XenStore.Server.Watches;

namespace XenVmc.XenStore.Server.Connections;

/// <summary>
/// One client connection: Dom0 on the main socket, or domain N on its own socket.
/// </summary>
// Design: a reader loop parses frames and hands each request to the engine, which handles it under
// the engine lock and queues the reply (and any watch events, for this or other connections) on the
// output queues without waiting. A writer loop drains this connection's queue onto the socket.
// The queue is bounded in bytes: a client that stops reading is disconnected, never waited for, so it
// cannot stall the store. For an unprivileged domain the reader also stops taking requests while
// OutstandingRequests replies are unsent, as xenstored's domain_can_read does.
// The state below the "engine lock" line is only touched under the engine lock.
internal sealed partial class StoreConnection
{
    private const int WriteBatchBytes = 64 * 1024;
    private static int s_nextId;

    private readonly Socket _socket;
    private readonly StoreEngine _engine;
    private readonly ILogger _logger;
    private readonly Channel<Outgoing> _output = Channel.CreateUnbounded<Outgoing>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim? _outstanding;
    private readonly CancellationTokenSource _stop = new();
    private readonly long _outputLimit;
    private long _queuedBytes;
    private int _closing;

    public StoreConnection(Socket socket, uint domid, StoreEngine engine, StoreOptions options, ILogger logger)
    {
        _socket = socket;
        _engine = engine;
        _logger = logger;
        DomId = domid;
        _outputLimit = options.OutputQueueBytes;
        if (!Privileged)
        {
            _outstanding = new SemaphoreSlim(options.Quotas.OutstandingRequests);
        }
    }

    public int Id { get; } = Interlocked.Increment(ref s_nextId);

    /// <summary>The domain this connection speaks for; 0 on the Dom0 socket.</summary>
    public uint DomId { get; }

    /// <summary>domain_is_unprivileged() is false only for dom0 (and the privileged domain, also 0 here).</summary>
    public bool Privileged => DomId == 0;

    public bool Closing => Volatile.Read(ref _closing) != 0;

    // ---- engine lock ----

    public List<Watch> Watches { get; } = [];

    public Dictionary<uint, StoreTransaction> Transactions { get; } = [];

    /// <summary>next_transaction_id: xenstored starts at 0 and skips it, so the first id is 1.</summary>
    public uint NextTransactionId { get; set; }

    /// <summary>The relative-path base, get_implicit_path(): dom0's sockets use /local/domain/0 too.</summary>
    public string ImplicitPath => $"/local/domain/{DomId}";

    public override string ToString() => $"connection {Id} (domain {DomId})";

    /// <summary>send_reply(): req_id and tx_id echo the request; a payload over the limit becomes E2BIG.</summary>
    public void SendReply(XsHeader request, ReadOnlySpan<byte> payload) =>
        SendReply(request, request.Type, payload);

    public void SendError(XsHeader request, XsError error) =>
        SendReply(request, XsMessageType.Error, XsErrorNames.Payload(error));

    /// <summary>send_event(): req_id and tx_id 0; an event too long for a frame is dropped, as in xenstored.</summary>
    public void SendEvent(string path, string token)
    {
        int length = path.Length + token.Length + 2;
        if (length > XsLimits.PayloadMax)
        {
            return;
        }

        byte[] frame = new byte[XsHeader.Size + length];
        new XsHeader(XsMessageType.WatchEvent, 0, 0, (uint)length).Write(frame);
        int offset = XsHeader.Size + RequestArgs.Bytes.GetBytes(path, frame.AsSpan(XsHeader.Size));
        frame[offset++] = 0;
        offset += RequestArgs.Bytes.GetBytes(token, frame.AsSpan(offset));
        frame[offset] = 0;
        Enqueue(new Outgoing(frame, IsReply: false));
    }

    /// <summary>Closes the connection soon, from any thread; the reader's cleanup tells the engine.</summary>
    public void Abort(string reason)
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0)
        {
            return;
        }

        Log.ConnectionClosing(_logger, this, reason);
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }

        // Cancelling runs callbacks inline; this may be called under the engine lock, so not here.
        ThreadPool.UnsafeQueueUserWorkItem(static s => ((CancellationTokenSource)s!).Cancel(), _stop);
    }

    private void SendReply(XsHeader request, XsMessageType type, ReadOnlySpan<byte> payload)
    {
        if (payload.Length > XsLimits.PayloadMax)
        {
            SendError(request, XsError.E2BIG);
            return;
        }

        Enqueue(new Outgoing(XsFrame.Encode(type, request.RequestId, request.TransactionId, payload), IsReply: true));
    }

    private void Enqueue(Outgoing item)
    {
        if (Closing)
        {
            return;
        }

        if (Interlocked.Add(ref _queuedBytes, item.Frame.Length) > _outputLimit)
        {
            Abort($"more than {_outputLimit} bytes of output queued: the client is not reading");
            return;
        }

        _output.Writer.TryWrite(item);
    }

    private readonly record struct Outgoing(byte[] Frame, bool IsReply);
}
