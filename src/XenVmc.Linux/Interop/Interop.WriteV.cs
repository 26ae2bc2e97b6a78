using System.Runtime.InteropServices;

namespace XenVmc.Linux.Interop;

// <sys/uio.h>
internal static partial class Libc
{
    /// <summary><c>struct iovec</c>, 16 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct iovec
    {
        public void* iov_base;
        public nuint iov_len;
    }

    [LibraryImport(Name, EntryPoint = "writev", SetLastError = true)]
    internal static unsafe partial nint WriteV(SafeFileDescriptor fd, iovec* iov, int iovcnt);
}
