using System.Buffers.Binary;

namespace XenVmc.Linux.Xen;

/// <summary>
/// <c>/dev/xen/gntdev</c>: maps pages another domain granted to us. Register the grant
/// references, <see cref="MappedMemory.Map"/> at the returned index (read-only unless the grant and
/// we want writing), and on teardown unmap first, then unregister.
/// </summary>
public sealed class GrantMapDevice : IDisposable
{
    public const string DefaultPath = "/dev/xen/gntdev";

    private GrantMapDevice(SafeFileDescriptor fd) => Handle = fd;

    public SafeFileDescriptor Handle { get; }

    public static GrantMapDevice Open(string path = DefaultPath) => new(FileDescriptor.OpenReadWrite(path));

    /// <summary>IOCTL_GNTDEV_MAP_GRANT_REF: registers <paramref name="refs"/> of <paramref name="granter"/>; returns the mmap index.</summary>
    public unsafe ulong Register(ushort granter, ReadOnlySpan<uint> refs)
    {
        if (refs.IsEmpty)
        {
            throw new ArgumentException("at least one grant reference", nameof(refs));
        }

        // struct ioctl_gntdev_map_grant_ref: u32 count, u32 pad, u64 index (out), {u32 domid, u32 ref}[count].
        byte[] buffer = new byte[Math.Max(24, 16 + (8 * refs.Length))];
        BinaryPrimitives.WriteUInt32LittleEndian(buffer, (uint)refs.Length);
        for (int i = 0; i < refs.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(16 + (8 * i)), granter);
            BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(20 + (8 * i)), refs[i]);
        }

        fixed (byte* p = buffer)
        {
            XenIoctl.Call(Handle, XenIoctl.GntdevMapGrantRef, p, $"register {refs.Length} grants of domain {granter} with");
        }

        return BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan(8));
    }

    /// <summary>IOCTL_GNTDEV_UNMAP_GRANT_REF, after the mapping itself is gone.</summary>
    public void Unregister(ulong index, int pages) =>
        XenIoctl.CallWithIndex(Handle, XenIoctl.GntdevUnmapGrantRef, index, pages, "unregister grants from");

    /// <summary>IOCTL_GNTDEV_SET_UNMAP_NOTIFY: when our (writable) mapping goes, clear the byte at <paramref name="index"/>.</summary>
    public void ClearOnUnmap(ulong index) => XenIoctl.ClearOnUnmap(Handle, XenIoctl.GntdevSetUnmapNotify, index);

    /// <summary>
    /// Cancels the unmap notification of the mapping at <paramref name="index"/>. Needed before
    /// unmapping a mapping that no longer holds the peer's page (after a save/restore or a
    /// migration): the kernel would clear the byte through it, and fault.
    /// </summary>
    public void CancelUnmapNotify(ulong index) => XenIoctl.SetUnmapNotify(Handle, XenIoctl.GntdevSetUnmapNotify, index, 0);

    public void Dispose() => Handle.Dispose();
}
