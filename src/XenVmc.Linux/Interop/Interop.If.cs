using System.Runtime.InteropServices;

namespace XenVmc.Linux.Interop;

// <linux/if.h>
internal static partial class Libc
{
    internal const int IFNAMSIZ = 16;

    // net_device_flags
    internal const uint IFF_UP = 0x1;
    internal const uint IFF_POINTOPOINT = 0x10;
    internal const uint IFF_RUNNING = 0x40;
    internal const uint IFF_NOARP = 0x80;
    internal const uint IFF_LOWER_UP = 0x10000;

    /// <summary><c>struct ifreq</c>, 40 bytes: the name, then a union at 16.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 40)]
    internal unsafe struct ifreq
    {
        [FieldOffset(0)] public fixed byte ifr_name[IFNAMSIZ];
        [FieldOffset(16)] public short ifr_flags;
        [FieldOffset(16)] public int ifr_ifindex;
        [FieldOffset(16)] public int ifr_mtu;
    }
}
