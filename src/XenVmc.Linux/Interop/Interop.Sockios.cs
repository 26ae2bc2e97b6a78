namespace XenVmc.Linux.Interop;

// <linux/sockios.h>: interface ioctls, issued on any AF_INET socket of the target network namespace.
internal static partial class Libc
{
    internal const uint SIOCGIFFLAGS = 0x8913;
    internal const uint SIOCSIFFLAGS = 0x8914;
    internal const uint SIOCGIFMTU = 0x8921;
    internal const uint SIOCSIFMTU = 0x8922;
    internal const uint SIOCGIFINDEX = 0x8933;
}
