using System.Runtime.InteropServices;

namespace XenVmc.XenStore.Interop;

internal static partial class Interop
{
    // include/uapi/linux/eventfd.h
    internal const int EFD_CLOEXEC = 0x80000;
    internal const int EFD_NONBLOCK = 0x800;

    [LibraryImport(Libc, EntryPoint = "eventfd", SetLastError = true)]
    internal static partial SafeFdHandle EventFd(uint initialValue, int flags);
}
