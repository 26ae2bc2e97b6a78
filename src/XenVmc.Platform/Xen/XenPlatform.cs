using XenVmc.Linux;
using XenVmc.Linux.Xen;
using XenVmc.XenStore;

namespace XenVmc.Platform.Xen;

/// <summary>
/// A real Xen guest: XenStore through <c>/dev/xen/xenbus</c> (or xenstored's socket in Dom0),
/// grants through <c>/dev/xen/gntalloc</c> and <c>/dev/xen/gntdev</c>, event channels through
/// <c>/dev/xen/evtchn</c>.
/// </summary>
/// <remarks>
/// Written against the documented interfaces (linux/include/uapi/xen/*.h, drivers/xen/*.c); this
/// machine has no Xen, so only the request layouts and the refusal paths are tested here.
/// Ring pages count against gntalloc's per-domain limit (module parameter <c>limit</c>, default
/// 1024 pages): each channel we offer grants 1 control page plus two rings.
/// </remarks>
public sealed class XenPlatform : IXenPlatform
{
    private readonly GrantAllocDevice _alloc;
    private readonly GrantMapDevice _map;
    private readonly XenGrantTable _grants;

    /// <param name="bindEventChannels">
    /// Bind interdomain event channels through <c>/dev/xen/evtchn</c>; false: channels have none and
    /// are polled (<see cref="PolledEventPort"/>), which is what a guest that may be saved,
    /// restored or migrated needs.
    /// </param>
    public XenPlatform(bool bindEventChannels = false)
    {
        Events = new XenEventChannels(bindEventChannels);
        _alloc = GrantAllocDevice.Open();
        try
        {
            _map = GrantMapDevice.Open();
        }
        catch
        {
            _alloc.Dispose();
            throw;
        }

        _grants = new XenGrantTable(_alloc, _map);
    }

    public string Name => "xen";

    public IGrantTable Grants => _grants;

    public IEventChannels Events { get; }

    public XenStoreClient OpenStore() => XenStoreClient.OpenDefault();

    public void Dispose()
    {
        _map.Dispose();
        _alloc.Dispose();
    }
}

internal sealed class XenGrantTable(GrantAllocDevice alloc, GrantMapDevice map) : IGrantTable
{
    public const string LimitPath = "/sys/module/xen_gntalloc/parameters/limit";

    /// <summary>gntalloc's limit, read when asked (an administrator may change it at run time); null when unreadable.</summary>
    public int? GrantLimit
    {
        get
        {
            try
            {
                return int.TryParse(File.ReadAllText(LimitPath).Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int limit) ? limit : null;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return null;
            }
        }
    }

    public IGrantedRegion Share(ushort grantee, int pages, bool writable)
    {
        var (index, refs) = alloc.Allocate(grantee, pages, writable);
        try
        {
            var memory = MappedMemory.Map(alloc.Handle, checked((long)index), pages * XenPage.Size, writable: true);
            return new GrantedRegion(alloc, memory, index, refs);
        }
        catch
        {
            alloc.Deallocate(index, pages);
            throw;
        }
    }

    public ISharedRegion Map(ushort granter, ReadOnlySpan<uint> refs, bool writable)
    {
        ulong index = map.Register(granter, refs);
        try
        {
            // Alone in its page tables: a save or migration takes with them whatever else they map.
            var memory = MappedMemory.MapIsolated(map.Handle, checked((long)index), refs.Length * XenPage.Size, writable, XenPage.PageTableSpan);
            return new MappedRegion(map, memory, index, refs.Length);
        }
        catch
        {
            map.Unregister(index, refs.Length);
            throw;
        }
    }

    private sealed class GrantedRegion(GrantAllocDevice alloc, MappedMemory memory, ulong index, uint[] refs) : IGrantedRegion
    {
        private int _disposed;

        public nint Address => memory.Address;

        public int Length => memory.Length;

        public IReadOnlyList<uint> References => refs;

        public void ClearOnUnmap(int offset) => alloc.ClearOnUnmap(index + XenPage.CheckOffset(offset, memory.Length));

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                // libxengntshr's order: give the grant back, then unmap; the pages go when the peer unmaps too.
                try
                {
                    alloc.Deallocate(index, refs.Length);
                }
                catch (LinuxException)
                {
                    // Already released; the unmap below still frees our side.
                }

                memory.Dispose();
            }
        }
    }

    private sealed class MappedRegion(GrantMapDevice map, MappedMemory memory, ulong index, int pages) : ISharedRegion
    {
        private int _disposed;

        public nint Address => memory.Address;

        public int Length => memory.Length;

        public void ClearOnUnmap(int offset) => map.ClearOnUnmap(index + XenPage.CheckOffset(offset, memory.Length));

        /// <summary>
        /// After a resume: the grant handles behind this mapping mean nothing to the new domain.
        /// The unmap notification is cancelled (gntdev would write it through the dead mapping
        /// and oops), and the mapping is kept, untouched, for the rest of the process: unmapping
        /// it makes gntdev warn once per page with a full stack, a console flood that stalls the
        /// guest for as long as it lasts. It is alone in its page tables
        /// (<see cref="MappedMemory.MapIsolated"/>), so it costs address space and the pages, once
        /// per channel that lives through a resume.
        /// </summary>
        public void Abandon()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }

            try
            {
                map.CancelUnmapNotify(index);
            }
            catch (LinuxException)
            {
                // No notification was set.
            }

            lock (Abandoned)
            {
                Abandoned.Add(memory);
            }
        }

        /// <summary>Mappings from before a resume (see <see cref="Abandon"/>): referenced so that no finalizer unmaps them.</summary>
        private static readonly List<MappedMemory> Abandoned = [];

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                memory.Dispose();
                try
                {
                    map.Unregister(index, pages);
                }
                catch (LinuxException)
                {
                    // Nothing more to release.
                }
            }
        }
    }
}

internal sealed class XenEventChannels(bool bind) : IEventChannels
{
    // One evtchn descriptor per port, so that each port has a descriptor of its own to poll.
    public IEventPort BindUnbound(ushort remoteDomain) => bind ? Bind(device => device.BindUnbound(remoteDomain)) : PolledEventChannels.Instance.BindUnbound(remoteDomain);

    /// <summary>Without binding we poll, and the peer's notifications go to a port nobody bound, which Xen drops.</summary>
    public IEventPort BindInterdomain(ushort remoteDomain, uint remotePort) =>
        bind ? Bind(device => device.BindInterdomain(remoteDomain, remotePort)) : PolledEventChannels.Instance.BindInterdomain(remoteDomain, remotePort);

    private static XenEventPort Bind(Func<EventChannelDevice, uint> bind)
    {
        var device = EventChannelDevice.Open();
        try
        {
            return new XenEventPort(device, bind(device));
        }
        catch
        {
            device.Dispose();
            throw;
        }
    }
}

internal sealed class XenEventPort(EventChannelDevice device, uint port) : IEventPort
{
    public uint LocalPort => port;

    public SafeFileDescriptor WaitHandle => device.Handle;

    public void Notify() => device.Notify(port);

    public bool Wait(int timeoutMs)
    {
        Span<PollEntry> entries = [new PollEntry(device.Handle, Poll.POLLIN)];
        Span<short> revents = stackalloc short[1];
        return Poll.Wait(entries, revents, timeoutMs) != 0 && TryConsume();
    }

    public bool TryConsume() => device.ConsumePending() > 0;

    /// <summary>Closing the descriptor unbinds the port.</summary>
    public void Dispose() => device.Dispose();

    /// <summary>
    /// Keeps the descriptor open for the rest of the process. Linux's evtchn driver (6.1) forgets
    /// every port's interrupt on resume, and releasing a port bound before the suspend then hits
    /// <c>BUG_ON(irq &lt; 0)</c> in <c>evtchn_unbind_from_user</c> (after <c>xl restore</c>, the
    /// process is killed in <c>close</c>). Nothing more is delivered on such a descriptor; it
    /// costs one descriptor per abandoned channel, and the kernel still trips over it when the
    /// process exits.
    /// </summary>
    public void Abandon()
    {
        lock (Abandoned)
        {
            Abandoned.Add(device);
        }
    }

    /// <summary>Descriptors of ports bound before a resume (see <see cref="Abandon"/>).</summary>
    private static readonly List<EventChannelDevice> Abandoned = [];
}

internal static class XenPage
{
    public const int Size = 4096;

    /// <summary>What one x86-64 page table (L1, 512 entries) maps.</summary>
    public const int PageTableSpan = 512 * Size;

    public static ulong CheckOffset(int offset, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(offset, length);
        return (ulong)offset;
    }
}
