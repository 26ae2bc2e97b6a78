using XenVmc.Linux.Interop;

namespace XenVmc.Linux;

/// <summary>One queue (file descriptor) of a Linux TUN device: IFF_TUN|IFF_NO_PI, optionally IFF_VNET_HDR.</summary>
/// <remarks>
/// Design: <see cref="Read"/> and <see cref="Write(ReadOnlySpan{byte})"/> are the per-packet path; they
/// allocate nothing and take no locks, so one thread may read while another writes (the kernel serialises per
/// queue). A blocked <see cref="Read"/> is not woken by <see cref="Dispose"/> (see
/// <see cref="SafeFileDescriptor"/>): a reader that must stop polls this handle together with an
/// <see cref="EventFd"/>, or opens the device with <see cref="TunOpenOptions.NonBlocking"/>.
/// With a vnet header each packet starts with a 10-byte virtio_net_hdr whose fields the kernel fills on read
/// and validates on write; GSO super-packets of up to 64 KiB arrive in one read when TSO/USO offloads are on.
/// </remarks>
public sealed class TunDevice : IPacketQueue, IDisposable
{
    /// <summary>sizeof(struct virtio_net_hdr).</summary>
    public const int VirtioNetHeaderSize = Libc.VIRTIO_NET_HDR_SIZE;

    /// <summary>A read buffer of this size holds any packet, including a 64 KiB GSO super-packet and its header.</summary>
    public const int MaxPacketSize = Packets.PacketLimits.MaxFrameLength;

    private const TunOffloads DefaultOffloads = TunOffloads.Checksum | TunOffloads.Tso4 | TunOffloads.Tso6;
    private const TunOffloads UdpSegmentation = TunOffloads.Uso4 | TunOffloads.Uso6;

    private TunDevice(SafeFileDescriptor handle, string name, bool vnetHeader)
    {
        Handle = handle;
        Name = name;
        VnetHeader = vnetHeader;
    }

    /// <summary>The device name the kernel reports (the kernel picks one when opened with an empty name).</summary>
    public string Name { get; }

    public int IfIndex { get; private set; }

    public bool VnetHeader { get; }

    /// <summary>The offloads last accepted by the kernel.</summary>
    public TunOffloads Offloads { get; private set; }

    /// <summary>True when the kernel accepted USO4|USO6: reads may return UDP_L4 GSO super-packets.</summary>
    public bool UdpSegmentationOffload => (Offloads & UdpSegmentation) == UdpSegmentation;

    public SafeFileDescriptor Handle { get; }

    /// <summary>
    /// Attaches to the TUN device <paramref name="name"/> (for example one created by systemd-networkd) or,
    /// when none exists in the calling thread's network namespace, creates it (CAP_NET_ADMIN).
    /// </summary>
    public static TunDevice Open(string name, TunOpenOptions? options = null)
    {
        options ??= TunOpenOptions.Default;
        TunOffloads offloads = options.Offloads ?? (options.VnetHeader ? DefaultOffloads : TunOffloads.None);
        if (!options.VnetHeader && offloads != TunOffloads.None)
        {
            throw new ArgumentException("TUN offloads need the vnet header (VnetHeader = true).", nameof(options));
        }

        var ifr = default(Libc.ifreq);
        InterfaceName.Write(ref ifr, name, allowEmpty: true);
        ifr.ifr_flags = (short)(Libc.IFF_TUN | Libc.IFF_NO_PI
            | (options.VnetHeader ? Libc.IFF_VNET_HDR : 0)
            | (options.MultiQueue ? Libc.IFF_MULTI_QUEUE : 0));

        int flags = Libc.O_RDWR | Libc.O_CLOEXEC | (options.NonBlocking ? Libc.O_NONBLOCK : 0);
        SafeFileDescriptor fd = SafeFileDescriptor.CheckOpened(
            Libc.Open("/dev/net/tun", flags, 0), "open", $"/dev/net/tun for TUN '{name}'");
        try
        {
            SetIff(fd, ref ifr, name);
            var device = new TunDevice(fd, InterfaceName.Read(ifr), options.VnetHeader);
            fd.Description = $"TUN '{device.Name}'";
            device.Configure(offloads, options.VnetHeader && options.ProbeUdpSegmentationOffload);
            device.IfIndex = NetworkInterfaces.GetIndex(device.Name);
            return device;
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads one packet (after the vnet header when <see cref="VnetHeader"/>). A packet larger than
    /// <paramref name="buffer"/> is truncated by the kernel: use <see cref="MaxPacketSize"/>.
    /// </summary>
    /// <returns>The packet length, or -1 when non-blocking and no packet is queued.</returns>
    public unsafe int Read(Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                nint n = Libc.Read(Handle, p, buffer.Length);
                if (n >= 0)
                {
                    return (int)n;
                }

                Errno errno = Libc.GetLastErrno();
                if (errno == Errno.EAGAIN)
                {
                    return -1;
                }

                if (errno != Errno.EINTR)
                {
                    throw new LinuxException(errno, "read from TUN", $"'{Name}'");
                }
            }
        }
    }

    /// <summary>Writes one packet (starting with its vnet header when <see cref="VnetHeader"/>).</summary>
    /// <returns>The bytes written, or -1 when non-blocking and the kernel would block.</returns>
    public unsafe int Write(ReadOnlySpan<byte> packet)
    {
        fixed (byte* p = packet)
        {
            var iov = new Libc.iovec { iov_base = p, iov_len = (nuint)packet.Length };
            return WriteVectors(&iov, 1);
        }
    }

    /// <summary>
    /// Writes <paramref name="first"/> followed by <paramref name="second"/> as ONE packet (writev), so that
    /// validated private headers and a payload still in shared memory need no copy into one buffer.
    /// </summary>
    public unsafe int Write(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        fixed (byte* p0 = first)
        fixed (byte* p1 = second)
        {
            Libc.iovec* iov = stackalloc Libc.iovec[2];
            iov[0] = new Libc.iovec { iov_base = p0, iov_len = (nuint)first.Length };
            iov[1] = new Libc.iovec { iov_base = p1, iov_len = (nuint)second.Length };
            return WriteVectors(iov, 2);
        }
    }

    /// <summary>Writes the parts of <paramref name="packet"/> as ONE packet (one writev), for example a GSO super-packet's headers and its payloads.</summary>
    /// <returns>The bytes written, or -1 when non-blocking and the kernel would block.</returns>
    public unsafe int Write(GatherList packet) => WriteVectors(packet.Vectors, packet.Count);

    private unsafe int WriteVectors(Libc.iovec* iov, int count)
    {
        while (true)
        {
            nint n = Libc.WriteV(Handle, iov, count);
            if (n >= 0)
            {
                return (int)n;
            }

            if (!IsRetryable(Libc.GetLastErrno(), out bool wouldBlock))
            {
                throw LinuxException.FromLastError("write to TUN", $"'{Name}'");
            }

            if (wouldBlock)
            {
                return -1;
            }
        }
    }

    /// <summary>TUNSETPERSIST: keep the device after the last queue closes.</summary>
    public void SetPersistent(bool on)
    {
        if (Libc.Ioctl(Handle, Libc.TUNSETPERSIST, on ? 1 : 0) < 0)
        {
            throw LinuxException.FromLastError(on ? "make persistent TUN" : "make non-persistent TUN", $"'{Name}'");
        }
    }

    /// <summary>TUNSETOFFLOAD. Throws <see cref="LinuxException"/> with EINVAL for bits this kernel does not know.</summary>
    public void SetOffloads(TunOffloads offloads)
    {
        Errno errno = TrySetOffloads(offloads);
        if (errno != 0)
        {
            throw new LinuxException(errno, $"set offloads {offloads} (0x{(uint)offloads:x}) on TUN", $"'{Name}'");
        }
    }

    public void Dispose() => Handle.Dispose();

    private static unsafe void SetIff(SafeFileDescriptor fd, ref Libc.ifreq ifr, string name)
    {
        fixed (Libc.ifreq* p = &ifr)
        {
            if (Libc.Ioctl(fd, Libc.TUNSETIFF, p) < 0)
            {
                throw LinuxException.FromLastError("attach or create TUN", $"'{name}'");
            }
        }
    }

    private static bool IsRetryable(Errno errno, out bool wouldBlock)
    {
        wouldBlock = errno == Errno.EAGAIN;
        return wouldBlock || errno == Errno.EINTR;
    }

    private unsafe void Configure(TunOffloads offloads, bool probeUdpSegmentation)
    {
        if (VnetHeader)
        {
            // The header size is a property of the device, not of our fd: whoever attached before us may have
            // enlarged it (virtio_net_hdr_v1 = 12). Everything here assumes 10.
            int size = VirtioNetHeaderSize;
            if (Libc.Ioctl(Handle, Libc.TUNSETVNETHDRSZ, &size) < 0)
            {
                throw LinuxException.FromLastError($"set vnet header size {size} on TUN", $"'{Name}'");
            }
        }

        // Always set the offloads, even to None: they too outlive a previous owner's fd.
        if (probeUdpSegmentation && (offloads & TunOffloads.Checksum) != 0 && (offloads & UdpSegmentation) != UdpSegmentation)
        {
            Errno errno = TrySetOffloads(offloads | UdpSegmentation);
            if (errno == 0)
            {
                return;
            }

            if (errno != Errno.EINVAL)
            {
                throw new LinuxException(errno, "probe USO offloads on TUN", $"'{Name}'");
            }
        }

        SetOffloads(offloads);
    }

    private Errno TrySetOffloads(TunOffloads offloads)
    {
        if (Libc.Ioctl(Handle, Libc.TUNSETOFFLOAD, (nint)(uint)offloads) < 0)
        {
            return Libc.GetLastErrno();
        }

        Offloads = offloads;
        return 0;
    }
}
