using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using XenVmc.Rings;

namespace XenVmc.Rings.Tests;

/// <summary>
/// A channel laid out in guarded shared memory, with each side's own mappings: Low maps the
/// control page and its transmit ring read-write, High maps the control page read-write too,
/// and each consumer maps its ring read-only. Exposes the shared fields for tests that play a
/// hostile peer.
/// </summary>
public sealed unsafe class TestChannel : IDisposable
{
    private readonly GuardedSharedMemory _controlMemory;
    private readonly GuardedSharedMemory[] _ringMemory;
    private readonly MemoryWindow[] _writableRings;
    private readonly MemoryWindow[] _readOnlyRings;

    public TestChannel(int ring0SizeLog2 = 12, int ring1SizeLog2 = 12)
    {
        _controlMemory = new GuardedSharedMemory(ChannelLayout.ControlPageSize);
        LowPage = _controlMemory.Map(writable: true);
        HighPage = _controlMemory.Map(writable: true);
        LowPage.Span.Fill(0xCC); // Initialize must not depend on zeroed memory
        Low = ChannelControl.Initialize(LowPage, ring0SizeLog2, ring1SizeLog2);
        if (!ChannelControl.TryAttach(HighPage, out ChannelControl? high, out string? error))
        {
            throw new InvalidOperationException(error);
        }

        High = high;
        _ringMemory = [new GuardedSharedMemory(1 << ring0SizeLog2), new GuardedSharedMemory(1 << ring1SizeLog2)];
        _writableRings = [_ringMemory[0].Map(writable: true), _ringMemory[1].Map(writable: true)];
        _readOnlyRings = [_ringMemory[0].Map(writable: false), _ringMemory[1].Map(writable: false)];
    }

    public MemoryWindow LowPage { get; }

    public MemoryWindow HighPage { get; }

    /// <summary>The allocating side's view of the control page.</summary>
    public ChannelControl Low { get; }

    /// <summary>The mapping side's view, through its own mapping.</summary>
    public ChannelControl High { get; }

    public int RingSize(int ring) => _ringMemory[ring].Length;

    /// <summary>The ring's data as its producer (and a hostile producer) sees it.</summary>
    public MemoryWindow WritableRing(int ring) => _writableRings[ring];

    /// <summary>The ring's data as its consumer maps it.</summary>
    public MemoryWindow ReadOnlyRing(int ring) => _readOnlyRings[ring];

    /// <summary>Ring 0 is produced by Low and consumed by High; ring 1 the other way round.</summary>
    public RingProducer Producer(int ring, int maxPayload) =>
        new(ring == 0 ? Low : High, ring, WritableRing(ring), maxPayload);

    public RingConsumer Consumer(int ring, int maxPayload) =>
        new(ring == 0 ? High : Low, ring, ReadOnlyRing(ring), maxPayload);

    public ref uint Prod(int ring) => ref Field(ChannelLayout.ProducerIndexOffset(ring));

    public ref uint Cons(int ring) => ref Field(ChannelLayout.ConsumerIndexOffset(ring));

    public ref uint ProducerWaiting(int ring) => ref Field(ChannelLayout.ProducerWaitingOffset(ring));

    public ref uint ConsumerSleeping(int ring) => ref Field(ChannelLayout.ConsumerSleepingOffset(ring));

    /// <summary>Writes a record header into the ring's data, as a hostile producer could.</summary>
    public void WriteRecordHeader(int ring, int position, uint length, uint kind)
    {
        Span<byte> data = WritableRing(ring).Span;
        Unsafe.WriteUnaligned(ref data[position], length);
        Unsafe.WriteUnaligned(ref data[position + 4], kind);
    }

    /// <summary>True when <paramref name="span"/> lies entirely inside the ring's consumer window.</summary>
    public bool IsInsideReadOnlyRing(int ring, ReadOnlySpan<byte> span)
    {
        nint start = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(span));
        MemoryWindow window = ReadOnlyRing(ring);
        return span.IsEmpty
            ? start >= window.Address && start <= window.Address + window.Length
            : start >= window.Address && start + span.Length <= window.Address + window.Length;
    }

    /// <summary>Where <paramref name="span"/> starts, relative to the ring's consumer window.</summary>
    public long OffsetInReadOnlyRing(int ring, ReadOnlySpan<byte> span) =>
        (nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(span)) - ReadOnlyRing(ring).Address;

    public void Dispose()
    {
        _controlMemory.Dispose();
        foreach (GuardedSharedMemory memory in _ringMemory)
        {
            memory.Dispose();
        }
    }

    private ref uint Field(int offset) => ref Unsafe.AsRef<uint>((byte*)LowPage.Address + offset);
}
