using System.Runtime.InteropServices;

namespace XenVmc.Linux.Interop;

// <sys/stat.h>
internal static partial class Libc
{
    [LibraryImport(Name, EntryPoint = "fchmod", SetLastError = true)]
    internal static partial int FChmod(SafeFileDescriptor fd, uint mode);
}
