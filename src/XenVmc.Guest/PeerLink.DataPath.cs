using XenVmc.Guest.Channels;
using XenVmc.Guest.DataPath;
using XenVmc.Packets;
using XenVmc.Rings;

namespace XenVmc.Guest;

internal sealed partial class PeerLink
{
    /// <summary>How long the TUN reader waits for ring space before it drops a packet for this peer.</summary>
    private const int SpaceWaitMs = 10;

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
                    Fail(PeerViolation.TxConsumerIndex, "the peer corrupted the consumer index of our transmit ring");
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

    /// <summary>
    /// The peer broke the protocol: the first violation of a connection is counted and logged
    /// (once), and ends the connection; the control loop removes the route and closes the channel.
    /// </summary>
    private void Fail(PeerViolation violation, string reason)
    {
        if (Interlocked.CompareExchange(ref _failure, reason, null) is null)
        {
            _violated = true;
            Interlocked.Increment(ref Counters.Violations[(int)violation]);
            _context.Log.PeerViolation(Peer, reason);
        }
    }

    /// <summary>
    /// The receive thread: drain the ring into the TUN, sleep on the event channel when empty.
    /// </summary>
    /// <remarks>
    /// The peer can rewrite shared memory at any moment, so a record's headers are copied into a
    /// private buffer, checked there, and those private bytes are what the TUN gets; only the
    /// payload after them is handed to the kernel straight from shared memory (one writev), so a
    /// peer changing it can hurt only its own packet, never the addresses we checked.
    /// </remarks>
    private void ReceiveLoop()
    {
        var channel = _channel!;
        var consumer = channel.Consumer;
        byte[] buffer = GC.AllocateUninitializedArray<byte>(ChannelNodes.MaxRecordPayload, pinned: true);
        while (true)
        {
            var status = ReceiveOne(channel, buffer, out bool delivered);
            if (status == RingReadStatus.Record)
            {
                if (!delivered)
                {
                    // Nothing more from this peer reaches the TUN; the control loop closes the channel.
                    return;
                }

                if (_stopReceiver)
                {
                    Counters.RxDrainedAtClose++;
                }

                continue;
            }

            if (status == RingReadStatus.PeerCorrupt)
            {
                var fault = consumer.Fault;
                Fail(PeerViolations.FromRingFault(fault), $"the peer wrote an impossible value into our receive ring ({fault})");
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

    /// <summary>
    /// Takes one record off the receive ring, checks it and writes it into the TUN, then gives its
    /// space back (and wakes the producer if it waits for space). <paramref name="delivered"/> is
    /// false when the record broke the protocol (the peer is failed; its space is not released).
    /// The per-packet receive path: allocates nothing (a test proves it).
    /// </summary>
    internal RingReadStatus ReceiveOne(Channel channel, byte[] buffer, out bool delivered)
    {
        var consumer = channel.Consumer;
        var status = consumer.TryRead(out var record);
        delivered = true;
        if (status == RingReadStatus.Record)
        {
            delivered = Deliver(record.Payload, buffer);
            if (delivered && consumer.Release())
            {
                channel.Port.Notify();
            }
        }

        return status;
    }

    /// <summary>
    /// For tests of the per-packet path only: carry packets over <paramref name="channel"/> as if
    /// connected, without the control loop, the receive thread, routes or XenStore.
    /// </summary>
    internal void AttachForTest(Channel channel)
    {
        _channel = channel;
        _closing = false;
    }

    /// <summary>Bytes of each record copied privately before checking: any IPv4/IPv6 header chain a real stack sends, plus TCP's.</summary>
    private const int PrivateHeaderBytes = VirtioNetHeader.Size + 256;

    /// <summary>Longest transport header the parser looks at (TCP with options).</summary>
    private const int MaxTransportHeader = 60;

    /// <summary>
    /// Checks one record on a private copy and writes it into the TUN, or drops it with a counted
    /// reason. False: the record broke the protocol (see <see cref="PeerViolation"/>), the peer
    /// is failed and nothing more of it is read.
    /// </summary>
    private bool Deliver(ReadOnlySpan<byte> shared, byte[] buffer)
    {
        int length = shared.Length;
        if (length <= VirtioNetHeader.Size)
        {
            Counters.RxMalformed[(int)PacketDropReason.Truncated]++;
            Fail(PeerViolation.MalformedPacket, $"a {length}-byte record holds no packet");
            return false;
        }

        int copied = Math.Min(length, PrivateHeaderBytes);
        shared[..copied].CopyTo(buffer);
        var record = buffer.AsSpan(0, length);
        var reason = Check(record, out var info);

        // The parser may have looked past the private bytes (a long IPv6 extension chain), where
        // the buffer holds an older packet: then check a private copy of the whole record.
        if (copied < length && (reason != PacketDropReason.None || VirtioNetHeader.Size + info.TransportOffset + MaxTransportHeader > copied))
        {
            shared.CopyTo(buffer);
            copied = length;
            reason = Check(record, out info);
        }

        if (reason != PacketDropReason.None)
        {
            Counters.RxMalformed[(int)reason]++;

            // Our sender puts only packets the same parser accepted on the ring. A virtio-net
            // header is the sending kernel's, and may legitimately be one we refuse: drop it.
            if (reason == PacketDropReason.BadVnetHeader)
            {
                return true;
            }

            Fail(PeerViolation.MalformedPacket, $"the peer sent a packet that does not parse ({reason})");
            return false;
        }

        if (!Sources.Contains(info.Source))
        {
            Counters.RxBadSource++;
            Fail(PeerViolation.SpoofedSource, $"the peer sent a packet from {info.Source}, not one of its addresses");
            return false;
        }

        // Our own address set may lag a change on our side: a peer is not blamed for that.
        if (!_dataPath.IsLocalAddress(info.Destination))
        {
            Counters.RxBadDestination++;
            return true;
        }

        int end = VirtioNetHeader.Size + info.Length;
        bool written = copied >= end
            ? _dataPath.WriteToTun(record[..end], default)
            : _dataPath.WriteToTun(record[..copied], shared[copied..end]);
        if (!written)
        {
            Counters.RxTunErrors++;
            return true;
        }

        Counters.RxPackets++;
        Counters.RxBytes += end;
        return true;
    }

    private static PacketDropReason Check(ReadOnlySpan<byte> record, out PacketInfo info)
    {
        var reason = PacketParser.TryParse(record[VirtioNetHeader.Size..], out info);
        return reason != PacketDropReason.None ? reason : PacketParser.ValidateVnet(record[..VirtioNetHeader.Size], info);
    }
}
