using System.Runtime.InteropServices;

namespace XenVmc.Linux.Interop;

// <fcntl.h>: fcntl(2) is variadic; every command used here takes an int or nothing.
internal static partial class Libc
{
    internal const int F_DUPFD_CLOEXEC = 1030;

    [LibraryImport(Name, EntryPoint = "fcntl", SetLastError = true)]
    internal static partial int Fcntl(SafeFileDescriptor fd, int cmd, int arg);
}
