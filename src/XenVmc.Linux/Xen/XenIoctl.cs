using System.Runtime.InteropServices;
using XenVmc.Linux.Interop;

namespace XenVmc.Linux.Xen;

/// <summary>
/// The ioctl numbers of Linux's Xen user-space devices (linux/include/uapi/xen/{gntalloc,gntdev,evtchn}.h).
/// They are built with <c>_IOC(_IOC_NONE, type, nr, size)</c>: no direction bits, so the number is
/// <c>size &lt;&lt; 16 | type &lt;&lt; 8 | nr</c>.
/// </summary>
internal static class XenIoctl
{
    public const int PageSize = 4096;

    public static readonly nuint GntallocAllocGref = None('G', 5, 24);
    public static readonly nuint GntallocDeallocGref = None('G', 6, 16);
    public static readonly nuint GntallocSetUnmapNotify = None('G', 7, 16);

    public static readonly nuint GntdevMapGrantRef = None('G', 0, 24);
    public static readonly nuint GntdevUnmapGrantRef = None('G', 1, 16);
    public static readonly nuint GntdevSetUnmapNotify = None('G', 7, 16);

    public static readonly nuint EvtchnBindInterdomain = None('E', 1, 8);
    public static readonly nuint EvtchnBindUnboundPort = None('E', 2, 4);
    public static readonly nuint EvtchnUnbind = None('E', 3, 4);
    public static readonly nuint EvtchnNotify = None('E', 4, 4);
    public static readonly nuint EvtchnReset = None('E', 5, 0);

    /// <summary>UNMAP_NOTIFY_CLEAR_BYTE: zero the byte at the notify offset when the mapping goes.</summary>
    public const uint UnmapNotifyClearByte = 0x1;

    /// <summary>UNMAP_NOTIFY_SEND_EVENT: notify the given port when the mapping goes.</summary>
    public const uint UnmapNotifySendEvent = 0x2;

    public static nuint None(char type, int nr, int size) => (nuint)((size << 16) | (type << 8) | nr);

    /// <summary>ioctl with a pointer argument; the (non-negative) result, or a <see cref="LinuxException"/> naming the device.</summary>
    public static unsafe int Call(SafeFileDescriptor fd, nuint request, void* argument, string what)
    {
        while (true)
        {
            int result = Libc.Ioctl(fd, request, argument);
            if (result >= 0)
            {
                return result;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno != (int)Errno.EINTR)
            {
                throw new LinuxException(errno, what, fd.Description);
            }
        }
    }

    /// <summary>A request made of an mmap index and a page count (dealloc on gntalloc, unmap on gntdev).</summary>
    public static unsafe void CallWithIndex(SafeFileDescriptor fd, nuint request, ulong index, int pages, string what)
    {
        var argument = new IndexCount { Index = index, Count = (uint)pages };
        Call(fd, request, &argument, what);
    }

    /// <summary>SET_UNMAP_NOTIFY on gntalloc or gntdev: clear the byte at <paramref name="index"/> when our mapping of its page goes.</summary>
    public static void ClearOnUnmap(SafeFileDescriptor fd, nuint request, ulong index) =>
        SetUnmapNotify(fd, request, index, UnmapNotifyClearByte);

    /// <summary>Replaces the mapping's unmap notification with <paramref name="action"/> (0: none).</summary>
    public static unsafe void SetUnmapNotify(SafeFileDescriptor fd, nuint request, ulong index, uint action)
    {
        var argument = new UnmapNotify { Index = index, Action = action };
        Call(fd, request, &argument, action == 0 ? "cancel the unmap notification on" : "set an unmap notification on");
    }

    /// <summary>struct ioctl_gntalloc_unmap_notify / ioctl_gntdev_unmap_notify: u64 index, u32 action, u32 event_channel_port.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct UnmapNotify
    {
        public ulong Index;
        public uint Action;
        public uint EventChannelPort;
    }

    /// <summary>struct ioctl_gntalloc_dealloc_gref and ioctl_gntdev_unmap_grant_ref: u64 index, u32 count, u32 pad.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct IndexCount
    {
        public ulong Index;
        public uint Count;
        public uint Pad;
    }
}
