using System.Collections.Concurrent;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using XenVmc.XenStore.Protocol;
using XenVmc.XenStore.Server.Connections;
using XenVmc.XenStore.Server.Domains;
using XenVmc.XenStore.Server.Store;
using XenVmc.XenStore.Server.Watches;

namespace XenVmc.XenStore.Server.Engine;

/// <summary>
/// The store: tree, domains, watches, transactions, and the handling of every request type.
/// </summary>
// Design: like xenstored, which is single-threaded, every request is handled start to finish under
// one lock, so each is atomic and all connections see one order of changes. Handling never waits:
// replies and events are appended to connection output queues and written by each connection's own
// writer loop outside the lock. Sockets are opened and closed from inside the lock (INTRODUCE,
// RELEASE) but closing only signals the connection; its reader loop cleans up later via
// Disconnect.
internal sealed partial class StoreEngine
{
    private readonly Lock _lock = new();
    private readonly StoreOptions _options;
    private readonly ILogger _logger;
    private readonly StoreDatabase _database = new();
    private readonly WatchRegistry _watches = new();
    private readonly GlobalView _global;
    private readonly HashSet<StoreConnection> _connections = [];
    private readonly ConcurrentDictionary<StoreConnection, Task> _running = new();
    private bool _stopped;

    public StoreEngine(StoreOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
        _global = new GlobalView(_database, _watches);
        SetupStructure();
    }

    /// <summary>A socket listener accepted a client for <paramref name="domid"/>.</summary>
    public void Accept(Socket socket, uint domid)
    {
        var connection = new StoreConnection(socket, domid, this, _options, _logger);
        lock (_lock)
        {
            DomainState? domain = domid == 0 ? null : _database.Domains.Find(domid);
            if (_stopped || (domid != 0 && domain is not { Introduced: true }))
            {
                socket.Dispose();
                return;
            }

            _connections.Add(connection);
            domain?.Connections.Add(connection);
        }

        Log.ConnectionAccepted(_logger, connection);
        _running[connection] = connection.RunAsync();
    }

    /// <summary>Handles one request: the reply (and events) are queued before this returns.</summary>
    public void Process(StoreConnection connection, XsHeader header, ReadOnlySpan<byte> payload)
    {
        lock (_lock)
        {
            if (connection.Closing)
            {
                return;
            }

            try
            {
                Dispatch(connection, header, payload);
            }
            catch (StoreErrorException e)
            {
                connection.SendError(header, e.Error);
            }
            catch (Exception e)
            {
                Log.RequestFailed(_logger, connection, header.Type.WireName(), e);
                connection.SendError(header, XsError.EIO);
            }
        }
    }

    /// <summary>conn_delete_all_*: a closed connection's transactions are aborted and its watches removed.</summary>
    public void Disconnect(StoreConnection connection)
    {
        lock (_lock)
        {
            _watches.RemoveAll(connection);
            connection.Transactions.Clear();
            _connections.Remove(connection);
            _database.Domains.Find(connection.DomId)?.Connections.Remove(connection);
        }

        _running.TryRemove(connection, out _);
    }

    /// <summary>Closes every connection and domain socket and waits for the connections to finish.</summary>
    public async Task StopAsync()
    {
        List<StoreConnection> connections;
        lock (_lock)
        {
            _stopped = true;
            foreach (DomainState domain in _database.Domains.All)
            {
                domain.Listener?.Stop();
                domain.Listener = null;
            }

            connections = [.. _connections];
        }

        foreach (StoreConnection connection in connections)
        {
            connection.Abort("the store is stopping");
        }

        await Task.WhenAll(_running.Values).ConfigureAwait(false);
    }

    /// <summary>
    /// setup_structure(): "/", "/tool", "/tool/xenstored" and the two special nodes, all owned by dom0
    /// with no access for others ("n0"). Dom0 is the master domain and introduced from the start.
    /// </summary>
    private void SetupStructure()
    {
        DomainState dom0 = _database.Domains.FindOrCreate(0, _database.Generation)!;
        dom0.Introduced = true;
        NodePerm[] n0 = [new NodePerm(0, PermBits.None)];
        (string Path, string[] Children)[] initial =
        [
            ("/", ["tool"]),
            ("/tool", ["xenstored"]),
            ("/tool/xenstored", []),
            ("@releaseDomain", []),
            ("@introduceDomain", []),
        ];
        foreach ((string path, string[] children) in initial)
        {
            _global.Put(path, new Node([], n0, children, 0));
            _database.AddNodeCount(0, 1);
        }
    }
}
