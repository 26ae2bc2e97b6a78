namespace XenVmc.Linux.Interop;

// <linux/if_tun.h> (x86_64 values of _IOW('T', n, int) / _IOR('T', n, unsigned int)).
// By value: TUNSETPERSIST, TUNSETOFFLOAD. By pointer: TUNSETIFF, TUNGETIFF (struct ifreq),
// TUNSETVNETHDRSZ, TUNGETVNETHDRSZ (int), TUNGETFEATURES (unsigned int).
// The numbers are uint, not nuint: a nuint constant above 0x7FFFFFFF comes out sign-extended
// (0xFFFFFFFF800454D2); the kernel's cmd is an unsigned int, and uint widens to nuint with zeros.
internal static partial class Libc
{
    internal const uint TUNSETIFF = 0x400454CA;
    internal const uint TUNSETPERSIST = 0x400454CB;
    internal const uint TUNGETFEATURES = 0x800454CF;
    internal const uint TUNSETOFFLOAD = 0x400454D0;
    internal const uint TUNGETIFF = 0x800454D2;
    internal const uint TUNGETVNETHDRSZ = 0x800454D7;
    internal const uint TUNSETVNETHDRSZ = 0x400454D8;

    // ifr_flags for TUNSETIFF
    internal const short IFF_TUN = 0x0001;
    internal const short IFF_TAP = 0x0002;
    internal const short IFF_MULTI_QUEUE = 0x0100;
    internal const short IFF_PERSIST = 0x0800;
    internal const short IFF_NO_PI = 0x1000;
    internal const short IFF_VNET_HDR = 0x4000;

    // TUNSETOFFLOAD bits. USO4/USO6 are missing from the 6.1 headers (added in 6.2).
    internal const uint TUN_F_CSUM = 0x01;
    internal const uint TUN_F_TSO4 = 0x02;
    internal const uint TUN_F_TSO6 = 0x04;
    internal const uint TUN_F_TSO_ECN = 0x08;
    internal const uint TUN_F_UFO = 0x10;
    internal const uint TUN_F_USO4 = 0x20;
    internal const uint TUN_F_USO6 = 0x40;

    /// <summary><c>sizeof(struct virtio_net_hdr)</c> (linux/virtio_net.h).</summary>
    internal const int VIRTIO_NET_HDR_SIZE = Packets.VirtioNetHeader.Size;
}
