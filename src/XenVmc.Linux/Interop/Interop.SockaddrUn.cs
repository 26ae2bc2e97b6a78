using System.Runtime.InteropServices;

namespace XenVmc.Linux.Interop;

// <sys/un.h>
internal static partial class Libc
{
    /// <summary><c>struct sockaddr_un</c>, 110 bytes; sun_path at 2.</summary>
    /// <remarks>
    /// The address length passed to the kernel decides the name: path sockets use
    /// offsetof(sun_path) + strlen + 1, abstract sockets (sun_path[0] == 0) exactly
    /// offsetof(sun_path) + name length, with no terminating NUL.
    /// </remarks>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct sockaddr_un
    {
        public ushort sun_family;
        public fixed byte sun_path[108];
    }
}
