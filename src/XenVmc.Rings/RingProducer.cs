using System.Runtime.CompilerServices;

namespace XenVmc.Rings;

/// <summary>The writing end of one ring: appends variable-length records for the peer to read.</summary>
/// <remarks>
/// Design: single producer, single consumer, no locks. This side owns <c>prod</c> and keeps the
/// true value privately; the shared field is only ever written ("publish"), so a peer that
/// scribbles on it hurts only itself. <c>cons</c> belongs to the peer: it is read once into a
/// local, and accepted only if it is 8-aligned and lies between the last accepted value and our
/// <c>prod</c> (it never overtakes us or moves back). Anything else latches
/// <see cref="RingWriteStatus.PeerCorrupt"/> for good. <c>cons</c> is re-read only when the
/// space known from the last read is not enough, so the consumer's line is touched rarely.
/// Wakeups follow libvchan: the consumer sets <c>consumerSleeping</c> before it sleeps and
/// re-checks <c>prod</c>; we publish <c>prod</c> and then fetch-and-clear the flag in
/// <see cref="ConsumerNeedsNotify"/>; a full fence on each side means at least one of the two
/// sees the other's store, so no wakeup is lost. <see cref="PrepareToWaitForSpace"/> is the
/// mirror image for a producer that waits for the consumer to free space.
/// Used by one thread at a time.
/// </remarks>
public sealed unsafe partial class RingProducer
{
    private readonly ChannelControl _control;
    private readonly RingShared _shared;

    private uint _prod;
    private uint _cons;
    private bool _corrupt;

    public RingProducer(ChannelControl control, int ring, MemoryWindow data, int maxPayload)
    {
        _shared = new RingShared(control, ring, data, maxPayload);
        _control = control;

        // Start from the indices as they are (zero on a fresh channel); read once and check as a pair.
        _prod = Volatile.Read(ref Unsafe.AsRef<uint>(_shared.Prod));
        _cons = Volatile.Read(ref Unsafe.AsRef<uint>(_shared.Cons));
        _corrupt = !RingGeometry.IsAligned(_prod) || !RingGeometry.IsAligned(_cons) || _prod - _cons > _shared.Size;
    }

    public ChannelControl Control => _control;

    public int MaxPayload => _shared.MaxPayload;

    public int Capacity => (int)_shared.Size;

    /// <summary>True once the peer has broken the protocol; every later write fails.</summary>
    public bool IsPeerCorrupt => _corrupt;

    /// <summary>
    /// Bytes in the ring as this side last saw them: its own prod minus the last cons it read. For
    /// status only: read from private fields (never from the shared page), so any thread may ask,
    /// even after the channel is closed; the answer is a sample, at most the ring's size.
    /// </summary>
    public int UsedBytesSample => (int)Math.Min(Volatile.Read(ref _prod) - Volatile.Read(ref _cons), _shared.Size);

    /// <summary>
    /// Writes <paramref name="first"/> followed by <paramref name="second"/> as one record (for
    /// example a virtio-net header and the packet) and publishes it. Never blocks, never allocates.
    /// </summary>
    public RingWriteStatus TryWrite(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        _reservedPosition = uint.MaxValue;
        if (_corrupt)
        {
            return RingWriteStatus.PeerCorrupt;
        }

        long length = (long)first.Length + second.Length;
        if (length > _shared.MaxPayload)
        {
            return RingWriteStatus.TooLarge;
        }

        uint recordSize = RingGeometry.RecordSize((int)length);
        uint position = _prod & _shared.Mask;
        uint tail = _shared.Size - position;
        uint required = Required(recordSize, tail);
        if (_shared.Size - (_prod - _cons) < required)
        {
            if (!RefreshCons())
            {
                return RingWriteStatus.PeerCorrupt;
            }

            if (_shared.Size - (_prod - _cons) < required)
            {
                return RingWriteStatus.Full;
            }
        }

        if (recordSize > tail)
        {
            // A record never wraps: fill the tail with padding and start again at offset 0.
            WriteHeader(_shared.Data + position, tail - ChannelLayout.RecordHeaderSize, ChannelLayout.RecordKindPadding);
            position = 0;
        }

        byte* record = _shared.Data + position;
        WriteHeader(record, (uint)length, ChannelLayout.RecordKindPacket);
        first.CopyTo(new Span<byte>(record + ChannelLayout.RecordHeaderSize, first.Length));
        second.CopyTo(new Span<byte>(record + ChannelLayout.RecordHeaderSize + first.Length, second.Length));
        _prod += required;

        // Write data, then publish prod: Volatile.Write is a release store, so the header and
        // payload stores above are visible to the consumer before the new prod is.
        Volatile.Write(ref Unsafe.AsRef<uint>(_shared.Prod), _prod);
        return RingWriteStatus.Written;
    }

    /// <summary>
    /// Call after publishing (once per batch is enough): fetch-and-clears the consumer's
    /// <c>consumerSleeping</c> flag; true means the consumer may be asleep, send it an event.
    /// </summary>
    public bool ConsumerNeedsNotify()
    {
        // Full fence between the prod store (TryWrite) and the flag load: pairs with the fence in
        // RingConsumer.PrepareToSleep between its flag store and its prod load. Without it the
        // load could be satisfied before our prod store is visible, both sides would miss each
        // other, and the consumer would sleep on data that is already there.
        Interlocked.MemoryBarrier();
        ref uint sleeping = ref Unsafe.AsRef<uint>(_shared.ConsumerSleeping);

        // Plain load first, so a consumer that is awake costs a read of its line, not a locked write.
        return Volatile.Read(ref sleeping) != 0 && Interlocked.Exchange(ref sleeping, 0) != 0;
    }

    /// <summary>
    /// Before sleeping until a record of <paramref name="payloadLength"/> bytes fits: sets
    /// <c>producerWaiting</c>, then re-checks the space. False means do not sleep (space appeared,
    /// or the peer is corrupt and the next <see cref="TryWrite"/> says so); true means sleep until
    /// the consumer's event, then retry.
    /// </summary>
    public bool PrepareToWaitForSpace(int payloadLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(payloadLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(payloadLength, _shared.MaxPayload);
        if (_corrupt)
        {
            return false;
        }

        uint required = Required(RingGeometry.RecordSize(payloadLength), _shared.Size - (_prod & _shared.Mask));
        ref uint waiting = ref Unsafe.AsRef<uint>(_shared.ProducerWaiting);

        // Interlocked.Exchange is a full fence: the flag is visible before cons is re-read. The
        // consumer publishes cons and then fetch-and-clears this flag behind its own full fence,
        // so either it sees the flag and sends an event, or we see its new cons here. Checking
        // only before setting the flag would lose the wakeup that falls between the two.
        Interlocked.Exchange(ref waiting, 1);
        if (!RefreshCons() || _shared.Size - (_prod - _cons) >= required)
        {
            Volatile.Write(ref waiting, 0);
            return false;
        }

        return true;
    }

    private static uint Required(uint recordSize, uint tail) => recordSize <= tail ? recordSize : tail + recordSize;

    private static void WriteHeader(byte* header, uint length, uint kind)
    {
        Unsafe.Write(header, length);
        Unsafe.Write(header + sizeof(uint), kind);
    }

    private bool RefreshCons()
    {
        // Read once; acquire, so our later stores into the freed space cannot move before it.
        uint cons = Volatile.Read(ref Unsafe.AsRef<uint>(_shared.Cons));
        if (!RingGeometry.IsAligned(cons) || cons - _cons > _prod - _cons)
        {
            _corrupt = true;
            return false;
        }

        _cons = cons;
        return true;
    }
}
