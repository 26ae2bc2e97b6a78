namespace XenVmc.Linux;

/// <summary>
/// What a data loop needs of one TUN queue: a descriptor to poll for packets, reads that return
/// at once (drained until empty per wake-up), and writes of whole packets, a gathered packet
/// (headers here, payloads elsewhere) being one write. Implemented by <see cref="TunDevice"/>;
/// tests put a fake in its place to drive the loop without root.
/// </summary>
/// <remarks>
/// A Linux TUN has no system call that moves several packets at once (no recvmmsg on its
/// descriptor); the batch is formed above it: the loop reads until <see cref="Read"/> returns -1,
/// and writes consecutive packets of one flow as one GSO super-packet (<see cref="Write(GatherList)"/>).
/// Every packet starts with a virtio-net header when <see cref="VnetHeader"/>.
/// </remarks>
public interface IPacketQueue
{
    string Name { get; }

    bool VnetHeader { get; }

    /// <summary>True when the kernel takes UDP_L4 GSO writes (and may return such reads).</summary>
    bool UdpSegmentationOffload { get; }

    /// <summary>Readable (POLLIN) while packets are queued.</summary>
    SafeFileDescriptor Handle { get; }

    /// <summary>Reads one packet into <paramref name="buffer"/>; -1 when none is queued. Throws <see cref="LinuxException"/> on failure.</summary>
    int Read(Span<byte> buffer);

    /// <summary>Writes one packet. Throws <see cref="LinuxException"/> on failure.</summary>
    int Write(ReadOnlySpan<byte> packet);

    /// <summary>Writes <paramref name="first"/> then <paramref name="second"/> as one packet.</summary>
    int Write(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second);

    /// <summary>Writes the parts of <paramref name="packet"/> as one packet.</summary>
    int Write(GatherList packet);
}
