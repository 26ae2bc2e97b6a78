using System.Runtime.InteropServices;

namespace XenVmc.Linux.Interop;

// <unistd.h>
internal static partial class Libc
{
    [LibraryImport(Name, EntryPoint = "write", SetLastError = true)]
    internal static unsafe partial nint Write(SafeFileDescriptor fd, byte* buf, nint count);
}
