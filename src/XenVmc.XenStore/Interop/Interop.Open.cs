using System.Runtime.InteropServices;

namespace XenVmc.XenStore.Interop;

internal static partial class Interop
{
    // include/uapi/asm-generic/fcntl.h
    internal const int O_RDWR = 0x2;
    internal const int O_CLOEXEC = 0x80000;

    /// <summary>open(2); the handle is invalid on failure and errno is in Marshal.GetLastPInvokeError().</summary>
    internal static SafeFdHandle Open(string path, int flags, int mode) => new(OpenRaw(path, flags, mode), ownsHandle: true);

    // Declared as returning int, not a SafeHandle: a SafeHandle return is marshalled as a 64-bit value,
    // and the upper half of rax after an int-returning function is not defined, so -1 would not be -1.
    [LibraryImport(Libc, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenRaw(string path, int flags, int mode);
}
