using System.Net.Sockets;
using XenVmc.Linux;

namespace XenVmc.Platform.Simulated;

/// <summary>
/// A domain's line to the simulated hypervisor: grant tables and event channels, the
/// counterpart of /dev/xen/gntalloc, /dev/xen/gntdev and /dev/xen/evtchn.
/// </summary>
/// <remarks>
/// Design: control-path only (channel setup and teardown), so one request is in flight at a
/// time under a lock; the data path never calls in here — it uses the mapped pages and the
/// event fds the replies handed over.
/// </remarks>
public sealed class SimHypervisorClient : IGrantTable, IEventChannels, IDisposable
{
    private readonly Socket _socket;
    private readonly string _path;
    private readonly Lock _lock = new();
    private readonly byte[] _buffer = new byte[SimHypercall.MaxMessage];

    private SimHypervisorClient(Socket socket, string path)
    {
        _socket = socket;
        _path = path;
    }

    public static SimHypervisorClient Connect(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        try
        {
            socket.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new IOException($"connect to the simulated hypervisor at {path}: {e.Message}", e);
        }

        return new SimHypervisorClient(socket, path);
    }

    public IGrantedRegion Share(ushort grantee, int pages, bool writable)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pages, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pages, SimHypercall.MaxRefs);
        var reply = Call(SimHypercall.Op.GrantAlloc, grantee, (uint)pages, writable ? SimHypercall.FlagWritable : 0, [], expectedFds: 1, $"grant {pages} pages to domain {grantee}");
        try
        {
            var memory = MappedMemory.Map(reply.Fds[0], 0, pages * SimHypercall.PageSize, writable: true);
            uint firstRef = reply.Refs[0];
            return new GrantedRegion(this, memory, reply.Refs, firstRef);
        }
        finally
        {
            reply.DisposeFds();
        }
    }

    public ISharedRegion Map(ushort granter, ReadOnlySpan<uint> refs, bool writable)
    {
        var reply = Call(SimHypercall.Op.GrantMap, granter, 0, writable ? SimHypercall.FlagWritable : 0, refs, expectedFds: 1, $"map {refs.Length} pages granted by domain {granter}");
        try
        {
            var memory = MappedMemory.Map(reply.Fds[0], (long)reply.Offset, refs.Length * SimHypercall.PageSize, writable);
            return new MappedRegion(this, memory, granter, refs.ToArray());
        }
        finally
        {
            reply.DisposeFds();
        }
    }

    public IEventPort BindUnbound(ushort remoteDomain)
    {
        var reply = Call(SimHypercall.Op.EventBindUnbound, remoteDomain, 0, 0, [], expectedFds: 2, $"bind an unbound port for domain {remoteDomain}");
        return new SimEventPort(this, reply.Port, EventFd.FromHandle(reply.Fds[0]), EventFd.FromHandle(reply.Fds[1]));
    }

    public IEventPort BindInterdomain(ushort remoteDomain, uint remotePort)
    {
        var reply = Call(SimHypercall.Op.EventBindInterdomain, remoteDomain, remotePort, 0, [], expectedFds: 2, $"bind to port {remotePort} of domain {remoteDomain}");
        return new SimEventPort(this, reply.Port, EventFd.FromHandle(reply.Fds[0]), EventFd.FromHandle(reply.Fds[1]));
    }

    /// <summary>How many pages this domain may have granted at once.</summary>
    public int? GrantLimit => (int)Call(SimHypercall.Op.GrantLimit, 0, 0, 0, [], expectedFds: 0, "ask for the grant limit").Port;

    internal void Unbind(uint port) => TryCall(SimHypercall.Op.EventUnbind, 0, port, []);

    internal void ReleaseGrant(uint firstRef) => TryCall(SimHypercall.Op.GrantRelease, 0, 0, [firstRef]);

    /// <summary>Asks the hypervisor to clear the byte at <paramref name="offset"/> of <paramref name="refs"/> when our mapping goes.</summary>
    private uint ClearOnUnmap(uint granter, uint[] refs, int offset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(offset, refs.Length * SimHypercall.PageSize);
        uint page = refs[offset / SimHypercall.PageSize];
        Call(SimHypercall.Op.UnmapNotify, granter, (uint)(offset % SimHypercall.PageSize), 0, [page], expectedFds: 0, $"unmap notification at byte {offset}").DisposeFds();
        return page;
    }

    public void Dispose() => _socket.Dispose();

    private void TryCall(SimHypercall.Op op, uint domain, uint arg, ReadOnlySpan<uint> refs)
    {
        try
        {
            Call(op, domain, arg, 0, refs, expectedFds: 0, op.ToString()).DisposeFds();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException)
        {
            // Teardown: the hypervisor may be gone already (host shut down, domain destroyed).
        }
    }

    private Reply Call(SimHypercall.Op op, uint domain, uint arg, uint flags, ReadOnlySpan<uint> refs, int expectedFds, string what)
    {
        lock (_lock)
        {
            int length = SimHypercall.WriteRequest(_buffer, op, domain, arg, flags, refs);
            try
            {
                _socket.Send(_buffer.AsSpan(0, length));
                var fds = new List<SafeFileDescriptor>();
                int received = UnixFdPassing.Receive(_socket, _buffer, fds);
                if (received == 0)
                {
                    throw new IOException($"{what}: the simulated hypervisor at {_path} closed the connection");
                }

                Span<uint> replyRefs = stackalloc uint[SimHypercall.MaxRefs];
                if (!SimHypercall.TryReadReply(_buffer.AsSpan(0, received), out int errno, out uint port, out ulong offset, replyRefs, out int count))
                {
                    fds.ForEach(f => f.Dispose());
                    throw new IOException($"{what}: malformed reply from the simulated hypervisor");
                }

                if (errno != 0)
                {
                    fds.ForEach(f => f.Dispose());
                    throw new LinuxException(errno, what);
                }

                if (fds.Count != expectedFds)
                {
                    fds.ForEach(f => f.Dispose());
                    throw new IOException($"{what}: expected {expectedFds} descriptors from the simulated hypervisor, got {fds.Count}");
                }

                return new Reply(port, offset, replyRefs[..count].ToArray(), fds);
            }
            catch (SocketException e)
            {
                throw new IOException($"{what}: {e.Message}", e);
            }
        }
    }

    private sealed record Reply(uint Port, ulong Offset, uint[] Refs, List<SafeFileDescriptor> Fds)
    {
        // Mapped memory and event fds keep what they need; the descriptors themselves are ours to close.
        public void DisposeFds()
        {
            foreach (var fd in Fds)
            {
                fd.Dispose();
            }
        }
    }

    private sealed class MappedRegion(SimHypervisorClient owner, MappedMemory memory, ushort granter, uint[] refs) : ISharedRegion
    {
        private int _disposed;
        private uint? _notifying;

        public nint Address => memory.Address;

        public int Length => memory.Length;

        public void ClearOnUnmap(int offset) => _notifying = owner.ClearOnUnmap(granter, refs, offset);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                memory.Dispose();
                if (_notifying is uint page)
                {
                    owner.TryCall(SimHypercall.Op.Unmapped, granter, 0, [page]);
                }
            }
        }
    }

    private sealed class GrantedRegion(SimHypervisorClient owner, MappedMemory memory, uint[] refs, uint firstRef) : IGrantedRegion
    {
        private int _disposed;

        public nint Address => memory.Address;

        public int Length => memory.Length;

        public IReadOnlyList<uint> References => refs;

        // Releasing the grant fires the notification (the hypervisor knows it by the allocation).
        public void ClearOnUnmap(int offset) => owner.ClearOnUnmap(SimHypercall.DomidSelf, refs, offset);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                memory.Dispose();
                owner.ReleaseGrant(firstRef);
            }
        }
    }
}
