using System.Runtime.InteropServices;

namespace XenVmc.Linux.Interop;

// <linux/if_link.h>
internal static partial class Libc
{
    internal const ushort IFLA_ADDRESS = 1;
    internal const ushort IFLA_IFNAME = 3;
    internal const ushort IFLA_MTU = 4;
    internal const ushort IFLA_STATS64 = 23;
    internal const ushort IFLA_EXT_MASK = 29;

    /// <summary><c>struct rtnl_link_stats64</c>, 200 bytes (25 u64 counters); only the first eight are read.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct rtnl_link_stats64
    {
        public ulong rx_packets;
        public ulong tx_packets;
        public ulong rx_bytes;
        public ulong tx_bytes;
        public ulong rx_errors;
        public ulong tx_errors;
        public ulong rx_dropped;
        public ulong tx_dropped;
    }
}
