using System.Runtime.InteropServices;

namespace XenVmc.Linux.Interop;

// <linux/rtnetlink.h> and <linux/fib_rules.h>: policy-routing rules ("ip rule").
internal static partial class Libc
{
    internal const ushort RTM_NEWRULE = 32;
    internal const ushort RTM_DELRULE = 33;
    internal const ushort RTM_GETRULE = 34;

    // enum FRA_*
    internal const ushort FRA_SRC = 2;
    internal const ushort FRA_IIFNAME = 3;
    internal const ushort FRA_PRIORITY = 6;
    internal const ushort FRA_TABLE = 15;
    internal const ushort FRA_PROTOCOL = 21;

    // fib_rule_hdr.flags: a source rule also matches a lookup without a source; the kernel
    // picks one on the route's device and keeps the rule only if that source is inside it.
    internal const uint FIB_RULE_FIND_SADDR = 0x00010000;

    // enum FR_ACT_*
    internal const byte FR_ACT_TO_TBL = 1;

    /// <summary><c>struct fib_rule_hdr</c>, 12 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct fib_rule_hdr
    {
        public byte family;
        public byte dst_len;
        public byte src_len;
        public byte tos;
        public byte table;
        public byte res1;
        public byte res2;
        public byte action;
        public uint flags;
    }
}
