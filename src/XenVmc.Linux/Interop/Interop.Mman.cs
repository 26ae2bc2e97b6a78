using System.Runtime.InteropServices;

namespace XenVmc.Linux.Interop;

// <sys/mman.h>
internal static partial class Libc
{
    internal const int PROT_NONE = 0x0;
    internal const int PROT_READ = 0x1;
    internal const int PROT_WRITE = 0x2;

    internal const int MAP_SHARED = 0x01;
    internal const int MAP_PRIVATE = 0x02;
    internal const int MAP_FIXED = 0x10;
    internal const int MAP_ANONYMOUS = 0x20;
    internal const int MAP_NORESERVE = 0x4000;

    internal static readonly nint MAP_FAILED = -1;

    [LibraryImport(Name, EntryPoint = "mmap", SetLastError = true)]
    internal static partial nint MMap(nint addr, nuint length, int prot, int flags, SafeFileDescriptor fd, long offset);

    /// <summary>mmap with no file (MAP_ANONYMOUS: the descriptor is -1).</summary>
    [LibraryImport(Name, EntryPoint = "mmap", SetLastError = true)]
    internal static partial nint MMapAnonymous(nint addr, nuint length, int prot, int flags, int fd = -1, long offset = 0);

    [LibraryImport(Name, EntryPoint = "munmap", SetLastError = true)]
    internal static partial int MUnmap(nint addr, nuint length);

    [LibraryImport(Name, EntryPoint = "mprotect", SetLastError = true)]
    internal static partial int MProtect(nint addr, nuint len, int prot);
}
