using XenVmc.Linux.Interop;

namespace XenVmc.Linux;

/// <summary>Interface index, flags and MTU by name through SIOC* ioctls.</summary>
/// <remarks>
/// Each call opens an AF_INET datagram socket: the socket, and so the call, belongs to the network namespace
/// of the calling thread at that moment.
/// </remarks>
public static class NetworkInterfaces
{
    public static int GetIndex(string name)
    {
        var ifr = default(Libc.ifreq);
        Ioctl(name, Libc.SIOCGIFINDEX, ref ifr, "get index of interface");
        return ifr.ifr_ifindex;
    }

    public static bool IsUp(string name) => (GetFlags(name) & (short)Libc.IFF_UP) != 0;

    /// <summary>Sets or clears IFF_UP.</summary>
    /// <remarks>Read-modify-write of the flags: a concurrent change of another flag can be lost (rtnetlink's
    /// <see cref="RtNetlink.SetLinkUp"/> changes only IFF_UP).</remarks>
    public static void SetUp(string name, bool up)
    {
        var ifr = default(Libc.ifreq);
        Ioctl(name, Libc.SIOCGIFFLAGS, ref ifr, "get flags of interface");
        ifr.ifr_flags = up ? (short)(ifr.ifr_flags | (short)Libc.IFF_UP) : (short)(ifr.ifr_flags & ~(short)Libc.IFF_UP);
        Ioctl(name, Libc.SIOCSIFFLAGS, ref ifr, up ? "set up interface" : "set down interface");
    }

    public static int GetMtu(string name)
    {
        var ifr = default(Libc.ifreq);
        Ioctl(name, Libc.SIOCGIFMTU, ref ifr, "get MTU of interface");
        return ifr.ifr_mtu;
    }

    public static void SetMtu(string name, int mtu)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(mtu);
        var ifr = default(Libc.ifreq);
        ifr.ifr_mtu = mtu;
        Ioctl(name, Libc.SIOCSIFMTU, ref ifr, $"set MTU {mtu} on interface");
    }

    private static short GetFlags(string name)
    {
        var ifr = default(Libc.ifreq);
        Ioctl(name, Libc.SIOCGIFFLAGS, ref ifr, "get flags of interface");
        return ifr.ifr_flags;
    }

    private static unsafe void Ioctl(string name, nuint request, ref Libc.ifreq ifr, string operation)
    {
        InterfaceName.Write(ref ifr, name);
        using SafeFileDescriptor socket = SafeFileDescriptor.CheckOpened(
            Libc.Socket(Libc.AF_INET, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0), "open control socket for", $"'{name}'");
        fixed (Libc.ifreq* p = &ifr)
        {
            if (Libc.Ioctl(socket, request, p) < 0)
            {
                throw LinuxException.FromLastError(operation, $"'{name}'");
            }
        }
    }
}
