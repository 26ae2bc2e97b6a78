using System.Runtime.CompilerServices;

namespace XenVmc.Rings;

/// <summary>The reading end of one ring: returns records in order, validated against a hostile producer.</summary>
/// <remarks>
/// Design: single producer, single consumer, no locks. The producer is untrusted: <c>prod</c>
/// and every record header are read exactly once into locals and checked before use, and
/// nothing else in the data window is read here (payloads are handed out as spans). <c>prod</c>
/// must be 8-aligned, no more than a ring ahead of our <c>cons</c>, and never behind the last
/// value accepted; a record must be a packet no longer than the maximum, or a padding record
/// that starts past offset 0 and ends exactly at the end of the ring, and it must lie within
/// both the ring and the published bytes. A violation latches
/// <see cref="RingReadStatus.PeerCorrupt"/> for good. Positions are masked by size − 1 and
/// lengths bounded before any pointer is formed, so no peer value can move a read outside the
/// window. The data window may be mapped read-only: nothing writes to it.
/// <c>cons</c> is ours; the shared field is only written. <see cref="TryRead"/> advances a
/// private read cursor; <see cref="Release"/> publishes it as <c>cons</c> for a whole batch.
/// Wakeups: see <see cref="PrepareToSleep"/> and <see cref="RingProducer"/>.
/// Used by one thread at a time.
/// </remarks>
public sealed unsafe class RingConsumer
{
    private readonly ChannelControl _control;
    private readonly RingShared _shared;

    private uint _prod;
    private uint _read;
    private uint _cons;
    private bool _corrupt;

    public RingConsumer(ChannelControl control, int ring, MemoryWindow data, int maxPayload)
    {
        _shared = new RingShared(control, ring, data, maxPayload);
        _control = control;

        // Start at the published cons (zero on a fresh channel); prod is checked against it on the first read.
        _cons = Volatile.Read(ref Unsafe.AsRef<uint>(_shared.Cons));
        _read = _cons;
        _prod = _cons;
        _corrupt = !RingGeometry.IsAligned(_cons);
        Fault = _corrupt ? RingFault.ConsumerIndex : RingFault.None;
    }

    public ChannelControl Control => _control;

    public int MaxPayload => _shared.MaxPayload;

    public int Capacity => (int)_shared.Size;

    /// <summary>True once the peer has broken the protocol; every later read fails.</summary>
    public bool IsPeerCorrupt => _corrupt;

    /// <summary>
    /// Bytes in the ring as this side last saw them: the last prod it read minus its released cons.
    /// For status only, from private fields like <see cref="RingProducer.UsedBytesSample"/>.
    /// </summary>
    public int UsedBytesSample => (int)Math.Min(Volatile.Read(ref _prod) - Volatile.Read(ref _cons), _shared.Size);

    /// <summary>What the peer broke first, once <see cref="IsPeerCorrupt"/>; <see cref="RingFault.None"/> before.</summary>
    public RingFault Fault { get; private set; }

    /// <summary>True when records have been read but not yet released.</summary>
    public bool HasUnreleased => _read != _cons;

    /// <summary>
    /// Returns the next packet record, skipping padding. The record stays in the ring until
    /// <see cref="Release"/>. Never blocks, never allocates, never throws.
    /// </summary>
    public RingReadStatus TryRead(out RingRecord record)
    {
        record = default;
        if (_corrupt)
        {
            return RingReadStatus.PeerCorrupt;
        }

        // At most two passes: a padding record sends us to offset 0, where padding is refused.
        while (true)
        {
            if (_read == _prod)
            {
                if (!RefreshProd())
                {
                    return RingReadStatus.PeerCorrupt;
                }

                if (_read == _prod)
                {
                    return RingReadStatus.Empty;
                }
            }

            uint available = _prod - _read;
            uint position = _read & _shared.Mask;
            uint tail = _shared.Size - position;
            byte* header = _shared.Data + position;

            // Each header word read once; the peer may be rewriting them as we look.
            uint length = Volatile.Read(ref Unsafe.AsRef<uint>(header));
            uint kind = Volatile.Read(ref Unsafe.AsRef<uint>(header + sizeof(uint)));

            if (kind == ChannelLayout.RecordKindPadding)
            {
                if (position == 0 || length != tail - ChannelLayout.RecordHeaderSize || tail > available)
                {
                    return Corrupt(RingFault.Padding);
                }

                _read += tail;
                continue;
            }

            if (kind != ChannelLayout.RecordKindPacket)
            {
                return Corrupt(RingFault.RecordKind);
            }

            if (length > (uint)_shared.MaxPayload)
            {
                return Corrupt(RingFault.RecordLength);
            }

            uint recordSize = RingGeometry.RecordSize((int)length);
            if (recordSize > available || recordSize > tail)
            {
                return Corrupt(RingFault.RecordLength);
            }

            record = new RingRecord(new ReadOnlySpan<byte>(header + ChannelLayout.RecordHeaderSize, (int)length));
            _read += recordSize;
            return RingReadStatus.Record;
        }
    }

    /// <summary>
    /// Publishes <c>cons</c> over every record read so far, giving their space back to the
    /// producer; their payload spans must not be used afterwards. True means the producer was
    /// waiting for space: send it an event.
    /// </summary>
    public bool Release()
    {
        if (_read == _cons)
        {
            return false;
        }

        _cons = _read;

        // Full barrier before publishing cons (libvchan does xen_mb() here): every read of the
        // released records completes before the producer can see the space and overwrite it.
        // Interlocked.Exchange fences both ways, so the same instruction also orders the cons
        // store before the producerWaiting load below, pairing with the fence in
        // RingProducer.PrepareToWaitForSpace (set flag, fence, re-read cons).
        Interlocked.Exchange(ref Unsafe.AsRef<uint>(_shared.Cons), _cons);
        ref uint waiting = ref Unsafe.AsRef<uint>(_shared.ProducerWaiting);
        return Volatile.Read(ref waiting) != 0 && Interlocked.Exchange(ref waiting, 0) != 0;
    }

    /// <summary>
    /// Before sleeping on the event channel: sets <c>consumerSleeping</c>, then re-checks
    /// <c>prod</c>. False means do not sleep (data is there, or the peer is corrupt and the next
    /// <see cref="TryRead"/> says so); true means sleep until the producer's event.
    /// </summary>
    /// <exception cref="InvalidOperationException">Records were read but not released: the producer could be waiting for that space while we sleep.</exception>
    public bool PrepareToSleep()
    {
        if (_corrupt)
        {
            return false;
        }

        if (_read != _cons)
        {
            throw new InvalidOperationException("Release the records read before sleeping.");
        }

        if (_read != _prod)
        {
            return false;
        }

        ref uint sleeping = ref Unsafe.AsRef<uint>(_shared.ConsumerSleeping);

        // The lost-wakeup race: if we only looked at prod and then slept, a record published
        // between the look and the sleep would find the flag clear, the producer would not send
        // an event, and we would sleep with data in the ring. So: set the flag, full fence
        // (Interlocked.Exchange), then look again. The producer publishes prod, fences, then
        // fetch-and-clears the flag; one of us is bound to see the other's store.
        Interlocked.Exchange(ref sleeping, 1);
        if (!RefreshProd() || _read != _prod)
        {
            Volatile.Write(ref sleeping, 0);
            return false;
        }

        return true;
    }

    private bool RefreshProd()
    {
        // Read once; acquire, so the record bytes read after it are at least as new as this prod
        // (the producer wrote them before its release store of prod).
        uint prod = Volatile.Read(ref Unsafe.AsRef<uint>(_shared.Prod));
        uint filled = prod - _cons;
        if (!RingGeometry.IsAligned(prod) || filled > _shared.Size || filled < _prod - _cons)
        {
            Corrupt(RingFault.ProducerIndex);
            return false;
        }

        _prod = prod;
        return true;
    }

    private RingReadStatus Corrupt(RingFault fault)
    {
        if (!_corrupt)
        {
            Fault = fault;
        }

        _corrupt = true;
        return RingReadStatus.PeerCorrupt;
    }
}
