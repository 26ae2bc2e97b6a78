using System.Runtime.InteropServices;

namespace XenVmc.Linux.Interop;

internal static partial class Libc
{
    /// <summary>The C library. The runtime maps the name "libc" to glibc's libc.so.6.</summary>
    internal const string Name = "libc";

    /// <summary>errno of the last P/Invoke declared with <c>SetLastError = true</c> on this thread.</summary>
    internal static Errno GetLastErrno() => (Errno)Marshal.GetLastPInvokeError();
}
