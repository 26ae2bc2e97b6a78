using XenVmc.Linux.Interop;

namespace XenVmc.Linux;

/// <summary>
/// Opens the daemon's TUN whoever made it: a persistent device systemd-networkd created from a
/// <c>.netdev</c> (<c>Kind=tun</c>, <c>VNetHeader=yes</c>, possibly <c>MultiQueue=yes</c>), one made
/// with <c>ip tuntap add ... vnet_hdr [multi_queue]</c>, or none at all, in which case it is created.
/// </summary>
/// <remarks>
/// The kernel refuses TUNSETIFF with EINVAL when IFF_MULTI_QUEUE differs from the existing device's
/// (drivers/net/tun.c, tun_set_iff), and there is no way to ask before attaching that does not depend
/// on which network namespace /sys was mounted in; so a refused single-queue attach is retried as
/// a multi-queue one. IFF_VNET_HDR is ours to set on attach either way.
/// </remarks>
public static class TunAttach
{
    public static TunDevice Open(string name, TunOpenOptions options)
    {
        try
        {
            return TunDevice.Open(name, options with { MultiQueue = false });
        }
        catch (LinuxException e) when (e.Errno == (int)Errno.EINVAL)
        {
            return TunDevice.Open(name, options with { MultiQueue = true });
        }
    }
}
