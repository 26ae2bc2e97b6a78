using System.Runtime.InteropServices;

namespace XenVmc.Linux.Interop;

// <unistd.h>
internal static partial class Libc
{
    [LibraryImport(Name, EntryPoint = "ftruncate", SetLastError = true)]
    internal static partial int FTruncate(SafeFileDescriptor fd, long length);
}
