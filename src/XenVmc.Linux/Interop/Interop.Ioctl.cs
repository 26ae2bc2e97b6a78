using System.Runtime.InteropServices;

namespace XenVmc.Linux.Interop;

// <sys/ioctl.h>: int ioctl(int fd, unsigned long request, ...)
// The request is an unsigned long (nuint). Whether the third argument is a pointer or a value depends
// on the request (drivers/net/tun.c __tun_chr_ioctl): hence two overloads. Variadic and fixed calls
// pass integer and pointer arguments identically on the Linux ABIs we target.
internal static partial class Libc
{
    [LibraryImport(Name, EntryPoint = "ioctl", SetLastError = true)]
    internal static unsafe partial int Ioctl(SafeFileDescriptor fd, nuint request, void* argp);

    [LibraryImport(Name, EntryPoint = "ioctl", SetLastError = true)]
    internal static partial int Ioctl(SafeFileDescriptor fd, nuint request, nint value);
}
