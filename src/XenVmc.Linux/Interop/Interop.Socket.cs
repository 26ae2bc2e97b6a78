using System.Runtime.InteropServices;

namespace XenVmc.Linux.Interop;

// <sys/socket.h>, <bits/socket_type.h>
internal static partial class Libc
{
    internal const int AF_UNIX = 1;
    internal const int AF_INET = 2;
    internal const int AF_INET6 = 10;
    internal const int AF_NETLINK = 16;

    internal const int SOCK_STREAM = 1;
    internal const int SOCK_DGRAM = 2;
    internal const int SOCK_RAW = 3;
    internal const int SOCK_SEQPACKET = 5;
    internal const int SOCK_NONBLOCK = 0x800;
    internal const int SOCK_CLOEXEC = 0x80000;

    internal const int SOL_SOCKET = 1;
    internal const int SO_RCVBUF = 8;

    [LibraryImport(Name, EntryPoint = "socket", SetLastError = true)]
    internal static partial int Socket(int domain, int type, int protocol);

    [LibraryImport(Name, EntryPoint = "socketpair", SetLastError = true)]
    internal static unsafe partial int SocketPair(int domain, int type, int protocol, int* sv);

    [LibraryImport(Name, EntryPoint = "bind", SetLastError = true)]
    internal static unsafe partial int Bind(SafeFileDescriptor sockfd, void* addr, uint addrlen);

    [LibraryImport(Name, EntryPoint = "getsockname", SetLastError = true)]
    internal static unsafe partial int GetSockName(SafeFileDescriptor sockfd, void* addr, uint* addrlen);

    [LibraryImport(Name, EntryPoint = "setsockopt", SetLastError = true)]
    internal static unsafe partial int SetSockOpt(SafeFileDescriptor sockfd, int level, int optname, void* optval, uint optlen);
}
