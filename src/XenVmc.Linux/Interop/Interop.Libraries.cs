using System.Runtime.InteropServices;

namespace XenVmc.Linux.Interop;

internal static partial class Libc
{
    /// <summary>The C library. The runtime maps the name "libc" to glibc's libc.so.6.</summary>
    internal const string Name = "libc";

    // Descriptors come back as int, never as a SafeHandle return: the marshaller would read a pointer-sized
    // register, and open(2)'s 32-bit -1 would arrive as 0xFFFFFFFF, a "valid" handle.

    /// <summary>errno of the last P/Invoke declared with <c>SetLastError = true</c> on this thread.</summary>
    internal static Errno GetLastErrno() => (Errno)Marshal.GetLastPInvokeError();
}
