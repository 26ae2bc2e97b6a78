using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using XenVmc.Linux;

namespace XenVmc.Platform.Simulated;

/// <summary>
/// The simulated host's hypervisor: grant tables and event channels for every simulated domain.
/// Domain N talks to it on its own socket, <c>&lt;directory&gt;/N</c>, so the socket a request
/// arrives on is the caller's identity, as a hypercall's domain is in Xen.
/// </summary>
/// <remarks>
/// Design: every domain connection runs its own receive loop; all grant and port state sits
/// behind one lock (the control path is rare and short). Granted pages are files under
/// <see cref="SharedMemoryDirectory"/> with mode 0600 that only this process opens: a domain
/// gets a descriptor for pages only when the grant names it, read-only unless the grant is
/// writable, so a read-only grant really cannot be written. When a domain's connection closes
/// (its daemon exited or crashed) the bytes it asked to have cleared on unmap are cleared, its
/// grants end and its ports close, and each bound peer gets an event: what Xen's unmap
/// notifications do when a process holding gntalloc/gntdev mappings dies.
/// </remarks>
public sealed partial class SimHypervisorServer : IAsyncDisposable
{
    private const uint FirstGrantRef = 8; // Xen reserves the first entries of a grant table.

    private readonly Lock _lock = new();
    private readonly Dictionary<ushort, DomainListener> _domains = [];
    private readonly Dictionary<(ushort Granter, uint Ref), Allocation> _grants = [];
    private readonly Dictionary<ushort, uint> _nextRef = [];
    private readonly Dictionary<ushort, int> _grantedPages = [];
    private readonly Dictionary<(ushort Domain, uint Port), Endpoint> _ports = [];
    private readonly Dictionary<ushort, uint> _nextPort = [];
    private readonly ILogger _logger;
    private bool _disposed;

    public SimHypervisorServer(string socketDirectory, string sharedMemoryDirectory, ILogger logger)
    {
        SocketDirectory = socketDirectory;
        SharedMemoryDirectory = sharedMemoryDirectory;
        _logger = logger;
        Directory.CreateDirectory(socketDirectory);
        Directory.CreateDirectory(sharedMemoryDirectory);
    }

    public string SocketDirectory { get; }

    /// <summary>Pages one domain may have granted at once; past it a grant fails with ENOSPC, as gntalloc's module parameter <c>limit</c> does on Linux.</summary>
    public int GrantLimit { get; init; } = DefaultGrantLimit;

    /// <summary>Linux's default for <c>xen_gntalloc.limit</c>.</summary>
    public const int DefaultGrantLimit = 1024;

    public string SharedMemoryDirectory { get; }

    public static string SocketPath(string socketDirectory, ushort domid) => Path.Combine(socketDirectory, domid.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public IReadOnlyCollection<ushort> Domains
    {
        get
        {
            lock (_lock)
            {
                return [.. _domains.Keys];
            }
        }
    }

    /// <summary>Opens domain <paramref name="domid"/>'s hypervisor socket (the domain was created).</summary>
    public void AddDomain(ushort domid)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_domains.ContainsKey(domid))
            {
                return;
            }

            string path = SocketPath(SocketDirectory, domid);
            File.Delete(path);
            var listener = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen(16);
            var domain = new DomainListener(domid, path, listener);
            _domains.Add(domid, domain);
            domain.AcceptLoop = Task.Run(() => AcceptLoopAsync(domain));
        }

        LogDomainAdded(domid);
    }

    /// <summary>Removes a domain: its socket goes, its connections close, its grants and ports end.</summary>
    public void RemoveDomain(ushort domid)
    {
        DomainListener? domain;
        lock (_lock)
        {
            if (!_domains.Remove(domid, out domain))
            {
                return;
            }
        }

        domain.Close();
        LogDomainRemoved(domid);
    }

    public async ValueTask DisposeAsync()
    {
        DomainListener[] domains;
        lock (_lock)
        {
            _disposed = true;
            domains = [.. _domains.Values];
            _domains.Clear();
        }

        foreach (var domain in domains)
        {
            domain.Close();
            await domain.AcceptLoop.ConfigureAwait(false);
        }
    }

    private async Task AcceptLoopAsync(DomainListener domain)
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await domain.Listener.AcceptAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            var connection = new Connection(domain.Domid, client);
            if (!domain.TryAdd(connection))
            {
                client.Dispose();
                return;
            }

            _ = Task.Factory.StartNew(() => Serve(domain, connection), TaskCreationOptions.LongRunning);
        }
    }

    private void Serve(DomainListener domain, Connection connection)
    {
        byte[] request = new byte[SimHypercall.MaxMessage];
        byte[] reply = new byte[SimHypercall.MaxMessage];
        uint[] refs = new uint[SimHypercall.MaxRefs];
        try
        {
            while (true)
            {
                int length = connection.Socket.Receive(request);
                if (length == 0)
                {
                    return;
                }

                var fds = new List<SafeFileDescriptor>(2);
                int replyLength;
                if (!SimHypercall.TryReadRequest(request.AsSpan(0, length), out var op, out uint target, out uint arg, out uint flags, refs, out int count))
                {
                    replyLength = SimHypercall.WriteReply(reply, Errno.EINVAL, 0, 0, []);
                }
                else
                {
                    replyLength = Handle(connection, op, target, arg, (flags & SimHypercall.FlagWritable) != 0, refs.AsSpan(0, count), reply, fds);
                }

                try
                {
                    UnixFdPassing.Send(connection.Socket, reply.AsSpan(0, replyLength), [.. fds]);
                }
                finally
                {
                    foreach (var fd in fds)
                    {
                        fd.Dispose();
                    }
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
        {
            // The domain went away; what it held is released below.
        }
        finally
        {
            domain.Remove(connection);
            connection.Socket.Dispose();
            ReleaseAll(connection);
        }
    }

    private int Handle(Connection caller, SimHypercall.Op op, uint target, uint arg, bool writable, ReadOnlySpan<uint> refs, Span<byte> reply, List<SafeFileDescriptor> fds)
    {
        try
        {
            return op switch
            {
                SimHypercall.Op.GrantAlloc => GrantAlloc(caller, target, arg, writable, reply, fds),
                SimHypercall.Op.GrantMap => GrantMap(caller, target, writable, refs, reply, fds),
                SimHypercall.Op.GrantRelease => GrantRelease(caller, refs, reply),
                SimHypercall.Op.EventBindUnbound => BindUnbound(caller, target, reply, fds),
                SimHypercall.Op.EventBindInterdomain => BindInterdomain(caller, target, arg, reply, fds),
                SimHypercall.Op.EventUnbind => Unbind(caller, arg, reply),
                SimHypercall.Op.UnmapNotify => SetUnmapNotify(caller, target, arg, refs, reply),
                SimHypercall.Op.Unmapped => Unmapped(caller, target, refs, reply),
                SimHypercall.Op.GrantLimit => SimHypercall.WriteReply(reply, 0, (uint)GrantLimit, 0, []),
                _ => SimHypercall.WriteReply(reply, Errno.ENOSYS, 0, 0, []),
            };
        }
        catch (LinuxException e)
        {
            LogHypercallFailed(caller.Domid, op, e.Message);
            return SimHypercall.WriteReply(reply, e.Errno, 0, 0, []);
        }
    }

    private static bool IsDomid(uint value) => value < 0x7FF0; // DOMID_FIRST_RESERVED

    internal static class Errno
    {
        public const int EPERM = 1;
        public const int ENOENT = 2;
        public const int ENOMEM = 12;
        public const int EACCES = 13;
        public const int EINVAL = 22;
        public const int ENOSPC = 28;
        public const int ENOSYS = 38;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "hypervisor: domain {Domid} created")]
    private partial void LogDomainAdded(ushort domid);

    [LoggerMessage(Level = LogLevel.Information, Message = "hypervisor: domain {Domid} destroyed")]
    private partial void LogDomainRemoved(ushort domid);

    [LoggerMessage(Level = LogLevel.Warning, Message = "hypervisor: domain {Domid} {Op} refused: {Reason}")]
    private partial void LogHypercallFailed(ushort domid, SimHypercall.Op op, string reason);
}
