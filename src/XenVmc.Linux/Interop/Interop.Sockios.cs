namespace XenVmc.Linux.Interop;

// <linux/sockios.h>: interface ioctls, issued on any AF_INET socket of the target network namespace.
internal static partial class Libc
{
    internal const nuint SIOCGIFFLAGS = 0x8913;
    internal const nuint SIOCSIFFLAGS = 0x8914;
    internal const nuint SIOCGIFMTU = 0x8921;
    internal const nuint SIOCSIFMTU = 0x8922;
    internal const nuint SIOCGIFINDEX = 0x8933;
}
