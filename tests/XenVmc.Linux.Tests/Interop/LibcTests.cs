using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using XenVmc.Linux.Interop;
using Xunit;

namespace XenVmc.Linux.Tests;

/// <summary>
/// Numbers and layouts against the reference (linux-xen-interfaces.md §3, §4; computed there with gcc on x86_64
/// against linux-libc-dev 6.1): a wrong one here is a silent kernel-ABI bug everywhere else.
/// </summary>
public class LibcTests
{
    [Theory]
    [InlineData(nameof(Libc.TUNSETIFF), 0x400454CA)]
    [InlineData(nameof(Libc.TUNSETPERSIST), 0x400454CB)]
    [InlineData(nameof(Libc.TUNGETFEATURES), 0x800454CF)]
    [InlineData(nameof(Libc.TUNSETOFFLOAD), 0x400454D0)]
    [InlineData(nameof(Libc.TUNGETIFF), 0x800454D2)]
    [InlineData(nameof(Libc.TUNGETVNETHDRSZ), 0x800454D7)]
    [InlineData(nameof(Libc.TUNSETVNETHDRSZ), 0x400454D8)]
    [InlineData(nameof(Libc.SIOCGIFFLAGS), 0x8913)]
    [InlineData(nameof(Libc.SIOCSIFFLAGS), 0x8914)]
    [InlineData(nameof(Libc.SIOCGIFMTU), 0x8921)]
    [InlineData(nameof(Libc.SIOCSIFMTU), 0x8922)]
    [InlineData(nameof(Libc.SIOCGIFINDEX), 0x8933)]
    public void IoctlNumbers(string name, long expected)
    {
        // A nuint constant is stored as its 32-bit value in metadata.
        object value = typeof(Libc).GetField(name, System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic)!.GetValue(null)!;
        Assert.Equal((ulong)expected, Convert.ToUInt64(value));
    }

    [Fact]
    public void IoctlNumbers_EncodeDirectionTypeNumberAndSize()
    {
        // _IOC(dir, 'T', nr, sizeof(int)): dir << 30 | size << 16 | 'T' << 8 | nr
        static nuint Ioc(uint dir, uint nr) => (nuint)((dir << 30) | (4u << 16) | ((uint)'T' << 8) | nr);
        Assert.Equal(Libc.TUNSETIFF, Ioc(1, 202));
        Assert.Equal(Libc.TUNSETOFFLOAD, Ioc(1, 208));
        Assert.Equal(Libc.TUNGETIFF, Ioc(2, 210));
        Assert.Equal(Libc.TUNSETVNETHDRSZ, Ioc(1, 216));
    }

    [Fact]
    public void TunFlagsAndOffloads()
    {
        Assert.Equal(0x5001, Libc.IFF_TUN | Libc.IFF_NO_PI | Libc.IFF_VNET_HDR);
        Assert.Equal(0x0100, Libc.IFF_MULTI_QUEUE);
        Assert.Equal(new uint[] { 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40 },
            new[] { Libc.TUN_F_CSUM, Libc.TUN_F_TSO4, Libc.TUN_F_TSO6, Libc.TUN_F_TSO_ECN, Libc.TUN_F_UFO, Libc.TUN_F_USO4, Libc.TUN_F_USO6 });
        Assert.Equal((uint)TunOffloads.Uso6, Libc.TUN_F_USO6);
        Assert.Equal(10, TunDevice.VirtioNetHeaderSize);
    }

    [Fact]
    public unsafe void Ifreq_Is40Bytes_UnionAt16()
    {
        Assert.Equal(40, sizeof(Libc.ifreq));
        Assert.Equal(16, (int)Marshal.OffsetOf<Libc.ifreq>(nameof(Libc.ifreq.ifr_flags)));
        Assert.Equal(16, (int)Marshal.OffsetOf<Libc.ifreq>(nameof(Libc.ifreq.ifr_ifindex)));
        Assert.Equal(16, (int)Marshal.OffsetOf<Libc.ifreq>(nameof(Libc.ifreq.ifr_mtu)));
        Assert.Equal(16, Libc.IFNAMSIZ);
    }

    [Fact]
    public void NetlinkStructures()
    {
        Assert.Equal(12, Unsafe.SizeOf<Libc.sockaddr_nl>());
        Assert.Equal(4, (int)Marshal.OffsetOf<Libc.sockaddr_nl>(nameof(Libc.sockaddr_nl.nl_pid)));
        Assert.Equal(8, (int)Marshal.OffsetOf<Libc.sockaddr_nl>(nameof(Libc.sockaddr_nl.nl_groups)));

        Assert.Equal(16, Unsafe.SizeOf<Libc.nlmsghdr>());
        Assert.Equal(4, (int)Marshal.OffsetOf<Libc.nlmsghdr>(nameof(Libc.nlmsghdr.nlmsg_type)));
        Assert.Equal(6, (int)Marshal.OffsetOf<Libc.nlmsghdr>(nameof(Libc.nlmsghdr.nlmsg_flags)));
        Assert.Equal(8, (int)Marshal.OffsetOf<Libc.nlmsghdr>(nameof(Libc.nlmsghdr.nlmsg_seq)));
        Assert.Equal(12, (int)Marshal.OffsetOf<Libc.nlmsghdr>(nameof(Libc.nlmsghdr.nlmsg_pid)));

        Assert.Equal(4, Unsafe.SizeOf<Libc.rtattr>());
        Assert.Equal(2, (int)Marshal.OffsetOf<Libc.rtattr>(nameof(Libc.rtattr.rta_type)));

        Assert.Equal(12, Unsafe.SizeOf<Libc.rtmsg>());
        Assert.Equal(4, (int)Marshal.OffsetOf<Libc.rtmsg>(nameof(Libc.rtmsg.rtm_table)));
        Assert.Equal(5, (int)Marshal.OffsetOf<Libc.rtmsg>(nameof(Libc.rtmsg.rtm_protocol)));
        Assert.Equal(6, (int)Marshal.OffsetOf<Libc.rtmsg>(nameof(Libc.rtmsg.rtm_scope)));
        Assert.Equal(7, (int)Marshal.OffsetOf<Libc.rtmsg>(nameof(Libc.rtmsg.rtm_type)));
        Assert.Equal(8, (int)Marshal.OffsetOf<Libc.rtmsg>(nameof(Libc.rtmsg.rtm_flags)));

        Assert.Equal(16, Unsafe.SizeOf<Libc.ifinfomsg>());
        Assert.Equal(2, (int)Marshal.OffsetOf<Libc.ifinfomsg>(nameof(Libc.ifinfomsg.ifi_type)));
        Assert.Equal(4, (int)Marshal.OffsetOf<Libc.ifinfomsg>(nameof(Libc.ifinfomsg.ifi_index)));
        Assert.Equal(8, (int)Marshal.OffsetOf<Libc.ifinfomsg>(nameof(Libc.ifinfomsg.ifi_flags)));
        Assert.Equal(12, (int)Marshal.OffsetOf<Libc.ifinfomsg>(nameof(Libc.ifinfomsg.ifi_change)));

        Assert.Equal(8, Unsafe.SizeOf<Libc.ifaddrmsg>());
        Assert.Equal(4, (int)Marshal.OffsetOf<Libc.ifaddrmsg>(nameof(Libc.ifaddrmsg.ifa_index)));

        Assert.Equal(20, Unsafe.SizeOf<Libc.nlmsgerr>());
        Assert.Equal(4, (int)Marshal.OffsetOf<Libc.nlmsgerr>(nameof(Libc.nlmsgerr.msg)));

        Assert.Equal(48, (int)Marshal.OffsetOf<Libc.rtnl_link_stats64>(nameof(Libc.rtnl_link_stats64.rx_dropped)));
        Assert.Equal(56, (int)Marshal.OffsetOf<Libc.rtnl_link_stats64>(nameof(Libc.rtnl_link_stats64.tx_dropped)));
    }

    [Fact]
    public void NetlinkConstants()
    {
        Assert.Equal([1, 2, 3, 4], new[] { Libc.NLMSG_NOOP, Libc.NLMSG_ERROR, Libc.NLMSG_DONE, Libc.NLMSG_OVERRUN }.Select(x => (int)x));
        Assert.Equal([16, 18, 20, 21, 22, 24, 25, 26],
            new[] { Libc.RTM_NEWLINK, Libc.RTM_GETLINK, Libc.RTM_NEWADDR, Libc.RTM_DELADDR, Libc.RTM_GETADDR, Libc.RTM_NEWROUTE, Libc.RTM_DELROUTE, Libc.RTM_GETROUTE }.Select(x => (int)x));
        Assert.Equal(0x300, Libc.NLM_F_DUMP);
        Assert.Equal([0x100, 0x200, 0x400, 0x800], new[] { Libc.NLM_F_REPLACE, Libc.NLM_F_EXCL, Libc.NLM_F_CREATE, Libc.NLM_F_APPEND }.Select(x => (int)x));
        Assert.Equal([1, 4, 5, 6, 7, 15], new[] { Libc.RTA_DST, Libc.RTA_OIF, Libc.RTA_GATEWAY, Libc.RTA_PRIORITY, Libc.RTA_PREFSRC, Libc.RTA_TABLE }.Select(x => (int)x));
        Assert.Equal((3, 4, 23), (Libc.IFLA_IFNAME, Libc.IFLA_MTU, Libc.IFLA_STATS64));
        Assert.Equal((1, 2), (Libc.IFA_ADDRESS, Libc.IFA_LOCAL));
        Assert.Equal((270, 10, 11, 12), (Libc.SOL_NETLINK, Libc.NETLINK_CAP_ACK, Libc.NETLINK_EXT_ACK, Libc.NETLINK_GET_STRICT_CHK));
        Assert.Equal((253, 254, 255), (Libc.RT_SCOPE_LINK, Libc.RT_TABLE_MAIN, Libc.RT_SCOPE_NOWHERE));
    }

    [Fact]
    public unsafe void SocketAndIoStructures()
    {
        Assert.Equal(8, sizeof(Libc.pollfd));
        Assert.Equal(16, sizeof(Libc.iovec));
        Assert.Equal(56, sizeof(Libc.msghdr));
        Assert.Equal(32, (int)Marshal.OffsetOf<Libc.msghdr>(nameof(Libc.msghdr.msg_control)));
        Assert.Equal(40, (int)Marshal.OffsetOf<Libc.msghdr>(nameof(Libc.msghdr.msg_controllen)));
        Assert.Equal(48, (int)Marshal.OffsetOf<Libc.msghdr>(nameof(Libc.msghdr.msg_flags)));
        Assert.Equal(16, sizeof(Libc.cmsghdr));
        Assert.Equal((20, 24, 24, 28), (Libc.CMSG_LEN(4), Libc.CMSG_SPACE(4), Libc.CMSG_SPACE(8), Libc.CMSG_LEN(12)));
        Assert.Equal(110, sizeof(Libc.sockaddr_un));
        Assert.Equal(2, (int)Marshal.OffsetOf<Libc.sockaddr_un>(nameof(Libc.sockaddr_un.sun_path)));
        Assert.Equal(0x40000000, Libc.MSG_CMSG_CLOEXEC);
        Assert.Equal(0x40000000, Libc.CLONE_NEWNET);
        Assert.Equal((1, 0x800, 0x80000), (Libc.EFD_SEMAPHORE, Libc.EFD_NONBLOCK, Libc.EFD_CLOEXEC));
    }

    [Fact]
    public void ErrnoNames_AreTheKernels()
    {
        Assert.Equal((1, 2, 3, 11, 16, 17, 19, 22, 95, 97), ((int)Errno.EPERM, (int)Errno.ENOENT, (int)Errno.ESRCH, (int)Errno.EAGAIN,
            (int)Errno.EBUSY, (int)Errno.EEXIST, (int)Errno.ENODEV, (int)Errno.EINVAL, (int)Errno.EOPNOTSUPP, (int)Errno.EAFNOSUPPORT));
    }
}
