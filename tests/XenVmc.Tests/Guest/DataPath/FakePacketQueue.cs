using XenVmc.Linux;

namespace XenVmc.Tests.Guest.DataPath;

/// <summary>
/// A TUN queue in memory for driving the data loop without root: packets the test queues are
/// what the loop reads (the handle polls readable while any are left), and every write is kept
/// as one flat packet.
/// </summary>
internal sealed class FakePacketQueue(bool udpSegmentationOffload) : IPacketQueue, IDisposable
{
    private readonly Queue<byte[]> _inbound = new();
    private readonly EventFd _readable = EventFd.Create(nonBlocking: true);

    public string Name => "fake0";

    public bool VnetHeader => true;

    public bool UdpSegmentationOffload => udpSegmentationOffload;

    public SafeFileDescriptor Handle => _readable.Handle;

    /// <summary>Every packet written, in order, virtio-net header first.</summary>
    public List<byte[]> Written { get; } = [];

    public int Queued => _inbound.Count;

    public void Enqueue(byte[] packet)
    {
        _inbound.Enqueue(packet);
        _readable.Signal(1);
    }

    public int Read(Span<byte> buffer)
    {
        if (!_inbound.TryDequeue(out var packet))
        {
            return -1;
        }

        int length = Math.Min(packet.Length, buffer.Length);
        packet.AsSpan(0, length).CopyTo(buffer);
        return length;
    }

    public int Write(ReadOnlySpan<byte> packet)
    {
        Written.Add(packet.ToArray());
        return packet.Length;
    }

    public int Write(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        Written.Add([.. first, .. second]);
        return first.Length + second.Length;
    }

    public int Write(GatherList packet)
    {
        Written.Add(packet.ToArray());
        return packet.Length;
    }

    public void Dispose() => _readable.Dispose();
}
