using System.Runtime.CompilerServices;

namespace XenVmc.Rings;

public sealed unsafe partial class RingProducer
{
    private uint _reservedPosition = uint.MaxValue;

    /// <summary>
    /// Lends the room for one record of up to <paramref name="maxLength"/> bytes, so a producer can
    /// fill it in place (for example with read(2) from a TUN) instead of copying from a private
    /// buffer. Nothing is published until <see cref="Commit"/>; a new reservation or a
    /// <see cref="TryWrite"/> simply forgets an uncommitted one. Empty when the ring lacks the room
    /// (or the peer is corrupt): fall back to <see cref="TryWrite"/>. Never blocks, never allocates.
    /// </summary>
    /// <remarks>
    /// The span lies in shared memory: the peer can read it, and where the pages are the peer's
    /// own (our transmit ring on the high side) it can change them at any moment, also while they
    /// are being filled. Whatever the caller decides from those bytes must be decided on a private
    /// copy, and bytes read back from the room must never be passed on to anyone but this peer.
    /// Commit itself reads nothing from the room: the record header it writes comes from
    /// <paramref name="maxLength"/> and the committed length only.
    /// </remarks>
    public Span<byte> TryReserve(int maxLength)
    {
        _reservedPosition = uint.MaxValue;
        if (_corrupt || maxLength <= 0 || maxLength > _shared.MaxPayload)
        {
            return default;
        }

        uint recordSize = RingGeometry.RecordSize(maxLength);
        uint position = _prod & _shared.Mask;
        uint tail = _shared.Size - position;
        uint required = Required(recordSize, tail);
        if (_shared.Size - (_prod - _cons) < required && (!RefreshCons() || _shared.Size - (_prod - _cons) < required))
        {
            return default;
        }

        _reservedPosition = position;
        uint start = recordSize > tail ? 0 : position;
        return new Span<byte>(_shared.Data + start + ChannelLayout.RecordHeaderSize, maxLength);
    }

    /// <summary>
    /// Publishes the first <paramref name="length"/> bytes of the room <see cref="TryReserve"/> lent
    /// (for <paramref name="reservedLength"/> bytes) as one record. False when there is no
    /// reservation or <paramref name="length"/> exceeds it.
    /// </summary>
    public bool Commit(int length, int reservedLength)
    {
        uint position = _reservedPosition;
        _reservedPosition = uint.MaxValue;
        if (position == uint.MaxValue || length < 0 || length > reservedLength || position != (_prod & _shared.Mask))
        {
            return false;
        }

        uint tail = _shared.Size - position;
        if (RingGeometry.RecordSize(reservedLength) > tail)
        {
            // Reserved at offset 0: pad the tail, as TryWrite does for a record that would wrap.
            WriteHeader(_shared.Data + position, tail - ChannelLayout.RecordHeaderSize, ChannelLayout.RecordKindPadding);
            _prod += tail;
            position = 0;
        }

        WriteHeader(_shared.Data + position, (uint)length, ChannelLayout.RecordKindPacket);
        _prod += RingGeometry.RecordSize(length);

        // Write data (the read into the room and the header), then publish prod (release store).
        Volatile.Write(ref Unsafe.AsRef<uint>(_shared.Prod), _prod);
        return true;
    }
}
