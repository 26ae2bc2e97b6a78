using System.Runtime.InteropServices;

namespace XenVmc.XenStore.Interop;

internal static partial class Interop
{
    // include/uapi/linux/eventfd.h
    internal const int EFD_CLOEXEC = 0x80000;
    internal const int EFD_NONBLOCK = 0x800;

    /// <summary>eventfd(2); see <see cref="Open"/> for why the raw call returns int.</summary>
    internal static SafeFdHandle EventFd(uint initialValue, int flags) => new(EventFdRaw(initialValue, flags), ownsHandle: true);

    [LibraryImport(Libc, EntryPoint = "eventfd", SetLastError = true)]
    private static partial int EventFdRaw(uint initialValue, int flags);
}
