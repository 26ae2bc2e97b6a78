using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace XenVmc.Linux.Interop;

// <sys/socket.h>: sendmsg(2), recvmsg(2) with ancillary data (cmsg(3)); SCM_RIGHTS from <asm-generic/socket.h>.
// Declared on SafeSocketHandle because the sockets come from System.Net.Sockets.Socket.
internal static partial class Libc
{
    internal const int SCM_RIGHTS = 1;

    /// <summary><c>struct msghdr</c>, 56 bytes on 64-bit.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct msghdr
    {
        public void* msg_name;
        public uint msg_namelen;
        public iovec* msg_iov;
        public nuint msg_iovlen;
        public void* msg_control;
        public nuint msg_controllen;
        public int msg_flags;
    }

    /// <summary><c>struct cmsghdr</c>, 16 bytes on 64-bit; data follows at CMSG_ALIGN(16).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct cmsghdr
    {
        public nuint cmsg_len;
        public int cmsg_level;
        public int cmsg_type;
    }

    // The CMSG_* macros: control data is aligned to sizeof(size_t).
    internal static int CMSG_ALIGN(int len) => (len + nint.Size - 1) & ~(nint.Size - 1);
    internal static unsafe int CMSG_LEN(int len) => CMSG_ALIGN(sizeof(cmsghdr)) + len;
    internal static unsafe int CMSG_SPACE(int len) => CMSG_ALIGN(sizeof(cmsghdr)) + CMSG_ALIGN(len);

    [LibraryImport(Name, EntryPoint = "sendmsg", SetLastError = true)]
    internal static unsafe partial nint SendMsg(SafeSocketHandle sockfd, msghdr* msg, int flags);

    [LibraryImport(Name, EntryPoint = "recvmsg", SetLastError = true)]
    internal static unsafe partial nint RecvMsg(SafeSocketHandle sockfd, msghdr* msg, int flags);
}
