namespace XenVmc.Platform;

/// <summary>
/// Page sharing between domains, as Xen's grant tables offer it to a guest's user space:
/// <c>/dev/xen/gntalloc</c> shares our pages with one named domain, <c>/dev/xen/gntdev</c> maps
/// pages another domain granted to us. The simulated platform gives the same guarantees: a
/// grant can be mapped only by the domain it names, and a read-only grant cannot be written.
/// </summary>
public interface IGrantTable
{
    /// <summary>Allocates <paramref name="pages"/> zeroed pages and grants them to <paramref name="grantee"/>.</summary>
    IGrantedRegion Share(ushort grantee, int pages, bool writable);

    /// <summary>Maps pages <paramref name="granter"/> granted to us, in the order of <paramref name="refs"/>.</summary>
    ISharedRegion Map(ushort granter, ReadOnlySpan<uint> refs, bool writable);

    /// <summary>
    /// How many pages this domain may have granted at once (gntalloc's module parameter
    /// <c>limit</c> on Linux), or null when the platform does not say. Past it, <see cref="Share"/>
    /// fails.
    /// </summary>
    int? GrantLimit => null;
}

/// <summary>A mapping of shared pages. Disposing unmaps them.</summary>
public interface ISharedRegion : IDisposable
{
    nint Address { get; }

    int Length { get; }

    /// <summary>
    /// Asks that the byte at <paramref name="offset"/> be cleared when this mapping goes away,
    /// however it goes: unmapped, or our process killed. This is gntalloc's and gntdev's
    /// <c>UNMAP_NOTIFY_CLEAR_BYTE</c>; a peer watching that byte sees us gone at once instead of
    /// waiting for a heartbeat to stop.
    /// </summary>
    void ClearOnUnmap(int offset);

    /// <summary>
    /// Lets go of the mapping without touching the shared pages, for a mapping made before this
    /// domain was suspended and resumed (saved and restored, or migrated): pages another domain
    /// granted are not behind it any more. An unmap notification is cancelled, since carrying it
    /// out would write through the dead mapping; on Xen the mapping itself is then kept, unused,
    /// for the rest of the process (unmapping stale grant handles floods the kernel log).
    /// </summary>
    void Abandon() => Dispose();
}

/// <summary>Pages we granted: the mapping plus the grant references the peer needs.</summary>
public interface IGrantedRegion : ISharedRegion
{
    IReadOnlyList<uint> References { get; }
}
