using System.Runtime.InteropServices;

namespace XenVmc.XenStore.Interop;

internal static partial class Interop
{
    // include/uapi/asm-generic/fcntl.h
    internal const int O_RDWR = 0x2;
    internal const int O_CLOEXEC = 0x80000;

    [LibraryImport(Libc, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial SafeFdHandle Open(string path, int flags, int mode);
}
