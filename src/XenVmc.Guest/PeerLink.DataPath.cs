using XenVmc.Guest.Channels;
using XenVmc.Guest.DataPath;
using XenVmc.Packets;
using XenVmc.Rings;

namespace XenVmc.Guest;

internal sealed partial class PeerLink
{
    /// <summary>How long the TUN reader waits for ring space before it drops a packet for this peer.</summary>
    private const int SpaceWaitMs = 2;

    /// <summary>
    /// Puts one record (virtio-net header + packet, as read from the TUN) on the ring. Called by
    /// the TUN reader thread only. Allocates nothing and takes no lock.
    /// </summary>
    public bool Transmit(ReadOnlySpan<byte> record, TunCounters tun)
    {
        Interlocked.Increment(ref _transmitters);
        try
        {
            var channel = _channel;
            if (_closing || channel is null)
            {
                tun.NotConnected++;
                return false;
            }

            var producer = channel.Producer;
            var status = producer.TryWrite(record, default);
            if (status == RingWriteStatus.Full)
            {
                status = WaitForSpace(channel, record);
            }

            switch (status)
            {
                case RingWriteStatus.Written:
                    Counters.TxPackets++;
                    Counters.TxBytes += record.Length;
                    if (producer.ConsumerNeedsNotify())
                    {
                        Counters.Notifications++;
                        channel.Port.Notify();
                    }

                    return true;
                case RingWriteStatus.Full:
                    Counters.TxRingFull++;
                    return false;
                case RingWriteStatus.TooLarge:
                    Counters.TxTooLarge++;
                    return false;
                default:
                    Fail("the peer corrupted the consumer index of our transmit ring");
                    return false;
            }
        }
        finally
        {
            Interlocked.Decrement(ref _transmitters);
        }
    }

    /// <summary>
    /// The ring is full: ask the peer for an event when it frees space, and wait briefly. A slow
    /// peer costs its own packets, never more than <see cref="SpaceWaitMs"/> of the others'.
    /// </summary>
    private RingWriteStatus WaitForSpace(Channel channel, ReadOnlySpan<byte> record)
    {
        long deadline = Environment.TickCount64 + SpaceWaitMs;
        var status = RingWriteStatus.Full;
        while (status == RingWriteStatus.Full && !_closing)
        {
            _spaceAvailable.Reset();
            if (channel.Producer.PrepareToWaitForSpace(record.Length))
            {
                long left = deadline - Environment.TickCount64;
                if (left < 0 || !_spaceAvailable.Wait((int)left))
                {
                    return channel.Producer.TryWrite(record, default);
                }
            }

            status = channel.Producer.TryWrite(record, default);
        }

        return status;
    }

    private void Fail(string reason)
    {
        if (_failure is null)
        {
            _failure = reason;
            _context.Log.PeerViolation(Peer, reason);
        }
    }

    /// <summary>
    /// The receive thread: drain the ring into the TUN, sleep on the event channel when empty.
    /// Every record is copied into a private buffer before it is checked, so the peer cannot
    /// change a packet between the check and the write.
    /// </summary>
    private void ReceiveLoop()
    {
        var channel = _channel!;
        var consumer = channel.Consumer;
        byte[] buffer = GC.AllocateUninitializedArray<byte>(ChannelNodes.MaxRecordPayload, pinned: true);
        while (true)
        {
            var status = consumer.TryRead(out var record);
            if (status == RingReadStatus.Record)
            {
                int length = record.Payload.Length;
                record.Payload.CopyTo(buffer);
                if (consumer.Release())
                {
                    channel.Port.Notify();
                }

                Deliver(buffer.AsSpan(0, length));
                continue;
            }

            if (status == RingReadStatus.PeerCorrupt)
            {
                Fail("the peer wrote an impossible index or record into our receive ring");
                return;
            }

            // Empty. Anything the transmit side waits for may have arrived with the last event.
            _spaceAvailable.Set();
            if (_stopReceiver)
            {
                return;
            }

            if (!consumer.PrepareToSleep())
            {
                continue;
            }

            if (channel.Port.Wait(100))
            {
                _spaceAvailable.Set();
            }
        }
    }

    private void Deliver(ReadOnlySpan<byte> record)
    {
        if (record.Length < VirtioNetHeader.Size)
        {
            Counters.RxMalformed[(int)PacketDropReason.Truncated]++;
            return;
        }

        var packet = record[VirtioNetHeader.Size..];
        var reason = PacketParser.TryParse(packet, out var info);
        if (reason == PacketDropReason.None)
        {
            reason = PacketParser.ValidateVnet(record[..VirtioNetHeader.Size], info);
        }

        if (reason != PacketDropReason.None)
        {
            Counters.RxMalformed[(int)reason]++;
            return;
        }

        if (!Sources.Contains(info.Source))
        {
            Counters.RxBadSource++;
            return;
        }

        if (!_dataPath.IsLocalAddress(info.Destination))
        {
            Counters.RxBadDestination++;
            return;
        }

        if (!_dataPath.WriteToTun(record[..(VirtioNetHeader.Size + info.Length)]))
        {
            Counters.RxTunErrors++;
            return;
        }

        Counters.RxPackets++;
        Counters.RxBytes += record.Length;
    }
}
