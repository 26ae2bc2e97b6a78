using System.Runtime.CompilerServices;

namespace XenVmc.Rings;

public sealed unsafe partial class RingProducer
{
    /// <summary>
    /// Packets published that the consumer has not taken: at teardown, the ones lost in flight
    /// (the peer died or left without draining). For accounting only; call when no write runs.
    /// </summary>
    /// <remarks>
    /// Walks our own records from the consumer's index to ours. The ring may sit in pages the peer
    /// can write, so each header is read once and bounds-checked; a record that makes no sense
    /// ends the walk, and the count is then a lower bound.
    /// </remarks>
    public int CountUnconsumed()
    {
        if (_corrupt || !RefreshCons())
        {
            return 0;
        }

        int count = 0;
        uint position = _cons;
        while (position != _prod)
        {
            uint offset = position & _shared.Mask;
            uint tail = _shared.Size - offset;
            uint length = Volatile.Read(ref Unsafe.AsRef<uint>(_shared.Data + offset));
            uint kind = Volatile.Read(ref Unsafe.AsRef<uint>(_shared.Data + offset + sizeof(uint)));
            if (length > (uint)_shared.MaxPayload && kind != ChannelLayout.RecordKindPadding)
            {
                break;
            }

            uint size = RingGeometry.RecordSize((int)Math.Min(length, _shared.Size));
            if (size > tail || size > _prod - position)
            {
                break;
            }

            if (kind == ChannelLayout.RecordKindPacket)
            {
                count++;
            }

            position += size;
        }

        return count;
    }
}
