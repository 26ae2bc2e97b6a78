using System.Runtime.InteropServices;

namespace XenVmc.Linux.Interop;

// <unistd.h>
internal static partial class Libc
{
    /// <summary>Only <see cref="SafeFileDescriptor"/> closes descriptors, hence the raw fd.</summary>
    [LibraryImport(Name, EntryPoint = "close", SetLastError = true)]
    internal static partial int DangerousClose(int fd);
}
