using System.Runtime.InteropServices;

namespace XenVmc.Linux.Interop;

// <linux/netlink.h>
internal static partial class Libc
{
    internal const int NETLINK_ROUTE = 0;

    internal const int SOL_NETLINK = 270;
    internal const int NETLINK_CAP_ACK = 10;
    internal const int NETLINK_EXT_ACK = 11;
    internal const int NETLINK_GET_STRICT_CHK = 12;

    internal const int NLMSG_ALIGNTO = 4;

    internal const ushort NLMSG_NOOP = 1;
    internal const ushort NLMSG_ERROR = 2;
    internal const ushort NLMSG_DONE = 3;
    internal const ushort NLMSG_OVERRUN = 4;

    internal const ushort NLM_F_REQUEST = 0x1;
    internal const ushort NLM_F_MULTI = 0x2;
    internal const ushort NLM_F_ACK = 0x4;
    internal const ushort NLM_F_DUMP_INTR = 0x10;
    internal const ushort NLM_F_DUMP_FILTERED = 0x20;
    // Modifiers to GET requests
    internal const ushort NLM_F_ROOT = 0x100;
    internal const ushort NLM_F_MATCH = 0x200;
    internal const ushort NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
    // Modifiers to NEW requests
    internal const ushort NLM_F_REPLACE = 0x100;
    internal const ushort NLM_F_EXCL = 0x200;
    internal const ushort NLM_F_CREATE = 0x400;
    internal const ushort NLM_F_APPEND = 0x800;
    // Flags of NLMSG_ERROR acknowledgements
    internal const ushort NLM_F_CAPPED = 0x100;
    internal const ushort NLM_F_ACK_TLVS = 0x200;

    // enum nlmsgerr_attrs
    internal const ushort NLMSGERR_ATTR_MSG = 1;
    internal const ushort NLMSGERR_ATTR_OFFS = 2;

    /// <summary><c>struct sockaddr_nl</c>, 12 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct sockaddr_nl
    {
        public ushort nl_family;
        public ushort nl_pad;
        public uint nl_pid;
        public uint nl_groups;
    }

    /// <summary><c>struct nlmsghdr</c>, 16 bytes; nlmsg_len includes this header.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct nlmsghdr
    {
        public uint nlmsg_len;
        public ushort nlmsg_type;
        public ushort nlmsg_flags;
        public uint nlmsg_seq;
        public uint nlmsg_pid;
    }

    /// <summary><c>struct nlmsgerr</c>, 20 bytes: a negative errno (0 = ACK) and the request's header.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct nlmsgerr
    {
        public int error;
        public nlmsghdr msg;
    }

    /// <summary><c>struct nlattr</c> / <c>struct rtattr</c>, 4 bytes; the length excludes the padding.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct rtattr
    {
        public ushort rta_len;
        public ushort rta_type;
    }

    internal static int NLMSG_ALIGN(int len) => (len + NLMSG_ALIGNTO - 1) & ~(NLMSG_ALIGNTO - 1);
}
