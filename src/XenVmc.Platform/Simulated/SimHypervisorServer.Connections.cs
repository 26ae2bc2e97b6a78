using System.Net.Sockets;

namespace XenVmc.Platform.Simulated;

public sealed partial class SimHypervisorServer
{
    private sealed class Connection(ushort domid, Socket socket)
    {
        public ushort Domid { get; } = domid;

        public Socket Socket { get; } = socket;

        public List<Allocation> Allocations { get; } = [];

        public List<Endpoint> Ports { get; } = [];

        public List<UnmapNotification> Notifications { get; } = [];
    }

    private sealed class DomainListener(ushort domid, string path, Socket listener)
    {
        private readonly Lock _lock = new();
        private readonly HashSet<Connection> _connections = [];
        private bool _closed;

        public ushort Domid { get; } = domid;

        public Socket Listener { get; } = listener;

        public Task AcceptLoop { get; set; } = Task.CompletedTask;

        public bool TryAdd(Connection connection)
        {
            lock (_lock)
            {
                return !_closed && _connections.Add(connection);
            }
        }

        public void Remove(Connection connection)
        {
            lock (_lock)
            {
                _connections.Remove(connection);
            }
        }

        /// <summary>The domain is gone: no new connections, and the open ones are cut.</summary>
        public void Close()
        {
            Connection[] open;
            lock (_lock)
            {
                _closed = true;
                open = [.. _connections];
            }

            Listener.Dispose();
            File.Delete(path);
            foreach (var connection in open)
            {
                // Shutdown wakes the connection's blocked receive; it releases what it held.
                try
                {
                    connection.Socket.Shutdown(SocketShutdown.Both);
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                }
            }
        }
    }
}
