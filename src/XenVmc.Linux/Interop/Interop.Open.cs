using System.Runtime.InteropServices;

namespace XenVmc.Linux.Interop;

// <fcntl.h>, <asm-generic/fcntl.h> (x86_64 values)
internal static partial class Libc
{
    internal const int O_RDONLY = 0x0;
    internal const int O_WRONLY = 0x1;
    internal const int O_RDWR = 0x2;
    internal const int O_CREAT = 0x40;
    internal const int O_EXCL = 0x80;
    internal const int O_NONBLOCK = 0x800;
    internal const int O_CLOEXEC = 0x80000;

    [LibraryImport(Name, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Open(string pathname, int flags, uint mode);
}
