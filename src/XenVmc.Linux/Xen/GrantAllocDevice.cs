using System.Buffers.Binary;
using XenVmc.Linux.Interop;

namespace XenVmc.Linux.Xen;

/// <summary>
/// <c>/dev/xen/gntalloc</c>: shares fresh zeroed pages of ours with one named domain.
/// Allocate, <see cref="MappedMemory.Map"/> at the returned index (MAP_SHARED), optionally set an
/// unmap notification, and on teardown deallocate and unmap; the pages live on while the peer
/// still maps them.
/// </summary>
/// <remarks>
/// The kernel limits how many pages a domain may have granted through this device (module
/// parameter <c>limit</c>, default 1024, in <c>/sys/module/xen_gntalloc/parameters/limit</c>);
/// past it, allocation fails with ENOSPC.
/// </remarks>
public sealed class GrantAllocDevice : IDisposable
{
    public const string DefaultPath = "/dev/xen/gntalloc";

    private const ushort FlagWritable = 1;

    private GrantAllocDevice(SafeFileDescriptor fd) => Handle = fd;

    public SafeFileDescriptor Handle { get; }

    public static GrantAllocDevice Open(string path = DefaultPath) => new(FileDescriptor.OpenReadWrite(path));

    /// <summary>IOCTL_GNTALLOC_ALLOC_GREF: <paramref name="pages"/> pages granted to <paramref name="grantee"/>; the mmap index and one grant reference per page.</summary>
    public unsafe (ulong Index, uint[] References) Allocate(ushort grantee, int pages, bool writable)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pages);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pages, 1 << 16);

        // struct ioctl_gntalloc_alloc_gref: u16 domid, u16 flags, u32 count, u64 index (out), u32 gref_ids[count] (out).
        byte[] buffer = new byte[Math.Max(24, 16 + (4 * pages))];
        BinaryPrimitives.WriteUInt16LittleEndian(buffer, grantee);
        BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(2), writable ? FlagWritable : (ushort)0);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(4), (uint)pages);
        fixed (byte* p = buffer)
        {
            XenIoctl.Call(Handle, XenIoctl.GntallocAllocGref, p, $"grant {pages} pages to domain {grantee} through");
        }

        ulong index = BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan(8));
        uint[] refs = new uint[pages];
        for (int i = 0; i < pages; i++)
        {
            refs[i] = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(16 + (4 * i)));
        }

        return (index, refs);
    }

    /// <summary>IOCTL_GNTALLOC_DEALLOC_GREF: we are done with the pages; they go once nobody maps them.</summary>
    public void Deallocate(ulong index, int pages) =>
        XenIoctl.CallWithIndex(Handle, XenIoctl.GntallocDeallocGref, index, pages, "release granted pages of");

    /// <summary>IOCTL_GNTALLOC_SET_UNMAP_NOTIFY: when our mapping of the page holding byte <paramref name="index"/> goes, clear that byte.</summary>
    public void ClearOnUnmap(ulong index) => XenIoctl.ClearOnUnmap(Handle, XenIoctl.GntallocSetUnmapNotify, index);

    public void Dispose() => Handle.Dispose();
}
