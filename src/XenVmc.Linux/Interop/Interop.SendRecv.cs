using System.Runtime.InteropServices;

namespace XenVmc.Linux.Interop;

// <sys/socket.h>: sendto(2), recvfrom(2) and the MSG_* flags they share with sendmsg/recvmsg.
internal static partial class Libc
{
    internal const int MSG_CTRUNC = 0x8;
    internal const int MSG_TRUNC = 0x20;
    internal const int MSG_DONTWAIT = 0x40;
    internal const int MSG_NOSIGNAL = 0x4000;
    internal const int MSG_CMSG_CLOEXEC = 0x40000000;

    [LibraryImport(Name, EntryPoint = "sendto", SetLastError = true)]
    internal static unsafe partial nint SendTo(SafeFileDescriptor sockfd, byte* buf, nint len, int flags, void* destAddr, uint addrlen);

    [LibraryImport(Name, EntryPoint = "recvfrom", SetLastError = true)]
    internal static unsafe partial nint RecvFrom(SafeFileDescriptor sockfd, byte* buf, nint len, int flags, void* srcAddr, uint* addrlen);
}
