using XenVmc.Linux;

namespace XenVmc.Platform.Simulated;

public sealed partial class SimHypervisorServer
{
    private int BindUnbound(Connection caller, uint remote, Span<byte> reply, List<SafeFileDescriptor> fds)
    {
        if (!IsDomid(remote))
        {
            return SimHypercall.WriteReply(reply, Errno.EINVAL, 0, 0, []);
        }

        lock (_lock)
        {
            uint port = NextPort(caller.Domid);
            var endpoint = new Endpoint(caller, port, (ushort)remote, EventFd.Create(nonBlocking: true), EventFd.Create(nonBlocking: true));
            _ports.Add((caller.Domid, port), endpoint);
            caller.Ports.Add(endpoint);
            fds.Add(Duplicate(endpoint.Pending));
            fds.Add(Duplicate(endpoint.PeerPending));
            return SimHypercall.WriteReply(reply, 0, port, 0, []);
        }
    }

    private int BindInterdomain(Connection caller, uint remote, uint remotePort, Span<byte> reply, List<SafeFileDescriptor> fds)
    {
        if (!IsDomid(remote))
        {
            return SimHypercall.WriteReply(reply, Errno.EINVAL, 0, 0, []);
        }

        lock (_lock)
        {
            // As Xen: the remote port must be unbound and reserved for exactly this domain.
            if (!_ports.TryGetValue(((ushort)remote, remotePort), out var unbound) || unbound.RemoteDomain != caller.Domid || unbound.Peer is not null)
            {
                return SimHypercall.WriteReply(reply, Errno.EINVAL, 0, 0, []);
            }

            uint port = NextPort(caller.Domid);
            var endpoint = new Endpoint(caller, port, (ushort)remote, unbound.PeerPending, unbound.Pending) { Peer = unbound };
            unbound.Peer = endpoint;
            _ports.Add((caller.Domid, port), endpoint);
            caller.Ports.Add(endpoint);
            fds.Add(Duplicate(endpoint.Pending));
            fds.Add(Duplicate(endpoint.PeerPending));
            return SimHypercall.WriteReply(reply, 0, port, 0, []);
        }
    }

    private int Unbind(Connection caller, uint port, Span<byte> reply)
    {
        lock (_lock)
        {
            if (!_ports.TryGetValue((caller.Domid, port), out var endpoint) || endpoint.Owner != caller)
            {
                return SimHypercall.WriteReply(reply, Errno.ENOENT, 0, 0, []);
            }

            caller.Ports.Remove(endpoint);
            Close(endpoint);
        }

        return SimHypercall.WriteReply(reply, 0, 0, 0, []);
    }

    /// <summary>Closes a port; a bound peer gets one last event so it looks at the channel again.</summary>
    private void Close(Endpoint endpoint)
    {
        _ports.Remove((endpoint.Owner.Domid, endpoint.Port));
        if (endpoint.Peer is { } peer)
        {
            peer.Peer = null;
            endpoint.PeerPending.Signal(1);
        }
        else
        {
            // Nobody else holds these eventfds through us any more.
            endpoint.Pending.Dispose();
            endpoint.PeerPending.Dispose();
        }
    }

    private void ReleaseAll(Connection connection)
    {
        lock (_lock)
        {
            FireNotifications(connection, _ => true);
            foreach (var allocation in connection.Allocations)
            {
                EndGrant(allocation);
            }

            foreach (var endpoint in connection.Ports)
            {
                Close(endpoint);
            }

            connection.Allocations.Clear();
            connection.Ports.Clear();
        }
    }

    private uint NextPort(ushort domid)
    {
        uint port = _nextPort.GetValueOrDefault(domid, 1u);
        _nextPort[domid] = port + 1;
        return port;
    }

    private static SafeFileDescriptor Duplicate(EventFd eventFd) => SafeFileDescriptor.Duplicate(eventFd.Handle);

    private sealed class Endpoint(Connection owner, uint port, ushort remoteDomain, EventFd pending, EventFd peerPending)
    {
        public Connection Owner { get; } = owner;

        public uint Port { get; } = port;

        public ushort RemoteDomain { get; } = remoteDomain;

        /// <summary>Readable while an event is pending for the owner.</summary>
        public EventFd Pending { get; } = pending;

        /// <summary>The other end's pending eventfd: what the owner's notify signals.</summary>
        public EventFd PeerPending { get; } = peerPending;

        public Endpoint? Peer { get; set; }
    }
}
