using System.Runtime.InteropServices;
using XenVmc.Linux.Interop;

namespace XenVmc.Linux.Xen;

/// <summary>
/// <c>/dev/xen/evtchn</c>, opened non-blocking. A port that fires is masked by the driver until
/// its number is written back (<see cref="Unmask"/>); the descriptor is readable (POLLIN) while
/// a port is pending. Closing the descriptor unbinds every port bound through it.
/// </summary>
public sealed class EventChannelDevice : IDisposable
{
    public const string DefaultPath = "/dev/xen/evtchn";

    private EventChannelDevice(SafeFileDescriptor fd) => Handle = fd;

    public SafeFileDescriptor Handle { get; }

    public static EventChannelDevice Open(string path = DefaultPath) =>
        new(SafeFileDescriptor.CheckOpened(Libc.Open(path, Libc.O_RDWR | Libc.O_CLOEXEC | Libc.O_NONBLOCK, 0), "open", path));

    /// <summary>IOCTL_EVTCHN_BIND_UNBOUND_PORT: a new port that only <paramref name="remoteDomain"/> may bind to.</summary>
    public unsafe uint BindUnbound(ushort remoteDomain)
    {
        uint request = remoteDomain;
        return (uint)XenIoctl.Call(Handle, XenIoctl.EvtchnBindUnboundPort, &request, $"bind an unbound port for domain {remoteDomain} through");
    }

    /// <summary>IOCTL_EVTCHN_BIND_INTERDOMAIN: our end of <paramref name="remoteDomain"/>'s unbound <paramref name="remotePort"/>.</summary>
    public unsafe uint BindInterdomain(ushort remoteDomain, uint remotePort)
    {
        Span<uint> request = [remoteDomain, remotePort];
        fixed (uint* p = request)
        {
            return (uint)XenIoctl.Call(Handle, XenIoctl.EvtchnBindInterdomain, p, $"bind to port {remotePort} of domain {remoteDomain} through");
        }
    }

    public unsafe void Notify(uint port) => XenIoctl.Call(Handle, XenIoctl.EvtchnNotify, &port, $"notify port {port} through");

    public unsafe void Unbind(uint port) => XenIoctl.Call(Handle, XenIoctl.EvtchnUnbind, &port, $"unbind port {port} through");

    /// <summary>
    /// Reads fired ports (non-blocking) and writes each back at once, unmasking it; returns how many
    /// fired. A ring overflow (EFBIG) is reset and reported as one event, since something fired.
    /// </summary>
    public unsafe int ConsumePending()
    {
        Span<uint> ports = stackalloc uint[16];
        int total = 0;
        while (true)
        {
            nint n;
            fixed (uint* p = ports)
            {
                n = Libc.Read(Handle, (byte*)p, ports.Length * sizeof(uint));
            }

            if (n < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == (int)Errno.EINTR)
                {
                    continue;
                }

                if (errno == (int)Errno.EAGAIN)
                {
                    return total;
                }

                if (errno == (int)Errno.EFBIG)
                {
                    XenIoctl.Call(Handle, XenIoctl.EvtchnReset, null, "reset");
                    return total + 1;
                }

                throw new LinuxException(errno, "read pending ports from", Handle.Description);
            }

            int count = (int)n / sizeof(uint);
            if (count == 0)
            {
                return total;
            }

            Unmask(ports[..count]);
            total += count;
        }
    }

    /// <summary>Writes port numbers back: the driver unmasks them.</summary>
    public void Unmask(ReadOnlySpan<uint> ports) =>
        FileDescriptor.WriteAll(Handle, MemoryMarshal.AsBytes(ports), Handle.Description);

    public void Dispose() => Handle.Dispose();
}
