using System.Runtime.InteropServices;

namespace XenVmc.Linux.Interop;

// <linux/if_addr.h>
internal static partial class Libc
{
    internal const ushort IFA_ADDRESS = 1;
    internal const ushort IFA_LOCAL = 2;
    internal const ushort IFA_LABEL = 3;
    internal const ushort IFA_FLAGS = 8;

    internal const uint IFA_F_NODAD = 0x02;
    internal const uint IFA_F_PERMANENT = 0x80;

    /// <summary><c>struct ifaddrmsg</c>, 8 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct ifaddrmsg
    {
        public byte ifa_family;
        public byte ifa_prefixlen;
        public byte ifa_flags;
        public byte ifa_scope;
        public uint ifa_index;
    }
}
