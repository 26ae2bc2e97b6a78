using System.Runtime.InteropServices;

namespace XenVmc.Linux.Interop;

// <unistd.h>
internal static partial class Libc
{
    [LibraryImport(Name, EntryPoint = "read", SetLastError = true)]
    internal static unsafe partial nint Read(SafeFileDescriptor fd, byte* buf, nint count);
}
