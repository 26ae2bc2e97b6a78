using System.Runtime.InteropServices;

namespace XenVmc.Linux.Interop;

// <sys/eventfd.h>
internal static partial class Libc
{
    internal const int EFD_SEMAPHORE = 0x1;
    internal const int EFD_NONBLOCK = 0x800;
    internal const int EFD_CLOEXEC = 0x80000;

    [LibraryImport(Name, EntryPoint = "eventfd", SetLastError = true)]
    internal static partial int EventFd(uint initval, int flags);
}
