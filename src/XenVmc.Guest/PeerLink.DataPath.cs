using XenVmc.Guest.Channels;
using XenVmc.Guest.DataPath;
using XenVmc.Linux;
using XenVmc.Packets;
using XenVmc.Rings;

namespace XenVmc.Guest;

/// <summary>What became of a packet handed to <see cref="PeerLink.Transmit"/>.</summary>
internal enum TransmitResult
{
    /// <summary>On the ring.</summary>
    Sent,

    /// <summary>Dropped and counted (not connected, too large, the peer broke the ring, or the ring stayed full).</summary>
    Dropped,

    /// <summary>The ring is full: the caller keeps the packet, waits for space and tries again, or gives up with <see cref="PeerLink.DropFull"/>.</summary>
    Full,
}

internal sealed partial class PeerLink
{
    // Data thread only.
    private bool _spaceTimedOut;
    private volatile bool _receiveStopped;

    // Whoever owns the receive ring (the data thread, then the drain at close): the pending UDP
    // group (null when the TUN takes no UDP GSO), its parts for one writev, and its bytes.
    private readonly UdpCoalescer? _coalescer;
    private readonly GatherList? _group;
    private long _groupBytes;

    /// <summary>The port the data thread polls for this link's events (null when not connected).</summary>
    public Platform.IEventPort? ReceivePort => _channel?.Port;

    /// <summary>
    /// Puts one record (virtio-net header + packet, as read from the TUN) on the ring. Called by
    /// the data thread only. Allocates nothing and takes no lock.
    /// </summary>
    public TransmitResult Transmit(ReadOnlySpan<byte> record, TunCounters tun)
    {
        Interlocked.Increment(ref _transmitters);
        try
        {
            var channel = _channel;
            if (_closing || channel is null || IsStale(channel))
            {
                tun.NotConnected++;
                return TransmitResult.Dropped;
            }

            var producer = channel.Producer;
            switch (producer.TryWrite(record, default))
            {
                case RingWriteStatus.Written:
                    _spaceTimedOut = false;
                    Counters.TxPackets++;
                    Counters.TxBytes += record.Length;
                    if (producer.ConsumerNeedsNotify())
                    {
                        Counters.Notifications++;
                        channel.Port.Notify();
                    }

                    return TransmitResult.Sent;
                case RingWriteStatus.Full when _spaceTimedOut:
                    // The peer has already let a packet time out and taken nothing since: the
                    // others' traffic does not wait for it again.
                    Counters.TxRingFull++;
                    return TransmitResult.Dropped;
                case RingWriteStatus.Full:
                    return TransmitResult.Full;
                case RingWriteStatus.TooLarge:
                    Counters.TxTooLarge++;
                    return TransmitResult.Dropped;
                default:
                    Fail(PeerViolation.TxConsumerIndex, "the peer corrupted the consumer index of our transmit ring");
                    return TransmitResult.Dropped;
            }
        }
        finally
        {
            Interlocked.Decrement(ref _transmitters);
        }
    }

    /// <summary><see cref="TransmitFromTun"/>: no room on the ring (or not connected), read the packet the usual way.</summary>
    internal const int NoRoom = -2;

    /// <summary>
    /// Reads one packet from the TUN straight into room on our transmit ring (no copy through a
    /// private buffer). Used while this link is the only one published and no packet for a peer
    /// that left can still be queued (see GuestDataPath.DirectReadLink), so whatever the TUN holds
    /// was routed to this peer: routes exist only to published peers. Returns the packet length, -1 when the TUN had
    /// nothing, or <see cref="NoRoom"/> when the ring lacks room for a maximal packet or the link
    /// is not connected: then read into a private buffer and call <see cref="Transmit"/>.
    /// Called by the data thread only. Allocates nothing and takes no lock.
    /// </summary>
    /// <remarks>
    /// Security: the room is shared memory, and on the high side it is the peer's own page, so the
    /// peer may rewrite the packet while and after the kernel writes it. The routing decision is
    /// therefore taken on a private copy of the headers (<paramref name="headers"/>; the whole
    /// packet when the parser needs more), and the only thing ever done with the bytes in the
    /// room is to commit them to this same peer. A peer that changes them can make us drop a
    /// packet meant for itself, or receive altered data it could alter anyway after the commit;
    /// it cannot steer a packet to another peer or to anyone else (a packet whose private parse
    /// names another destination is dropped, never copied out of the room), and nothing is read
    /// back from the room after the private copy. The receiving side checks the record as any other.
    /// </remarks>
    internal int TransmitFromTun(IPacketQueue tun, byte[] headers, GuestDataPath dataPath)
    {
        Interlocked.Increment(ref _transmitters);
        try
        {
            var channel = _channel;
            if (_closing || channel is null || IsStale(channel))
            {
                return NoRoom;
            }

            var producer = channel.Producer;
            var room = producer.TryReserve(TunDevice.MaxPacketSize);
            if (room.IsEmpty)
            {
                return NoRoom;
            }

            int length = tun.Read(room);
            if (length < 0)
            {
                return -1;
            }

            // The read was a system call: the domain may have been suspended and resumed in it.
            if (IsStale(channel))
            {
                dataPath.Counters.ReadPackets++;
                dataPath.Counters.NotConnected++;
                return length;
            }

            // Decide on private bytes: the headers, or the whole packet when the parser needs more.
            PacketInfo info = default;
            var reason = length > VirtioNetHeader.Size
                ? ParsePrivateCopy(room[..length], headers, validateVnet: false, out info, out _)
                : PacketDropReason.Truncated;
            var route = dataPath.Route(reason, info, length);
            if (route != this)
            {
                if (route is not null)
                {
                    // The kernel routed it here, so the bytes were changed in the room under us:
                    // not copied out of the room, dropped (see remarks).
                    dataPath.Counters.NotConnected++;
                }

                return length;
            }

            producer.Commit(length, TunDevice.MaxPacketSize);
            _spaceTimedOut = false;
            Counters.TxPackets++;
            Counters.TxBytes += length;
            if (producer.ConsumerNeedsNotify())
            {
                Counters.Notifications++;
                channel.Port.Notify();
            }

            return length;
        }
        finally
        {
            Interlocked.Decrement(ref _transmitters);
        }
    }

    /// <summary>A packet waited <see cref="GuestDataPath.SpaceWaitMs"/> for ring space in vain: count it dropped.</summary>
    public void DropFull()
    {
        Counters.TxRingFull++;
        _spaceTimedOut = true;
    }

    /// <summary>
    /// Before the data thread sleeps with a packet for this full ring: asks the peer for an event
    /// when it frees space. False: do not sleep, try again now (space appeared, or the link is
    /// closing and the retry drops the packet).
    /// </summary>
    public bool PrepareToWaitForSpace(int recordLength)
    {
        Interlocked.Increment(ref _transmitters);
        try
        {
            var channel = _channel;
            return !_closing && channel is not null && !IsStale(channel) && channel.Producer.PrepareToWaitForSpace(recordLength);
        }
        finally
        {
            Interlocked.Decrement(ref _transmitters);
        }
    }

    /// <summary>
    /// True once this domain has been suspended and resumed (saved and restored, or migrated)
    /// since the channel was mapped: the peer's pages are not behind our mappings any more, and
    /// touching them faults. Checked after every system call and before the next touch of
    /// shared memory (the kernel freezes a thread for a suspend only on its way out of the kernel).
    /// Reads two vDSO clocks (~40 ns); allocates nothing.
    /// </summary>
    private bool IsStale(Channel channel) => _context.Resume.Sample() != channel.Epoch;

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
    /// The data thread's turn at this link: takes up to <paramref name="max"/> records from the
    /// receive ring into the TUN; returns how many. A peer that breaks the protocol is failed and
    /// its ring is not read again (the control loop closes the channel).
    /// </summary>
    /// <remarks>
    /// The peer can rewrite shared memory at any moment, so a record's headers are copied into a
    /// private buffer, checked there, and those private bytes are what the TUN gets; only the
    /// payload after them is handed to the kernel straight from shared memory (one writev), so a
    /// peer changing it can hurt only its own packet, never the addresses we checked.
    /// </remarks>
    internal int ReceiveBatch(byte[] buffer, int max)
    {
        var channel = _channel;
        if (_receiveStopped || channel is null)
        {
            return 0;
        }

        int taken = 0;

        // The clock is read again only after a system call: the pass's poll or reads, a notify.
        bool recheck = true;
        while (taken < max && !(recheck && IsStale(channel)))
        {
            var status = ReceiveOne(channel, buffer, out bool delivered, out recheck);
            if (status == RingReadStatus.Record)
            {
                taken++;
                if (!delivered)
                {
                    _receiveStopped = true;
                    break;
                }

                continue;
            }

            if (status == RingReadStatus.PeerCorrupt)
            {
                FailCorruptRing(channel);
                _receiveStopped = true;
            }

            break;
        }

        EndGroup(channel);
        return taken;
    }

    /// <summary>
    /// Writes the pending UDP group (if any) into the TUN and gives its records' space back. Not
    /// after a suspend and resume (the payloads lie in the peer's pages, gone from behind our
    /// mappings: the group is dropped untouched), nor after a violation (nothing more of the
    /// peer is released).
    /// </summary>
    private void EndGroup(Channel channel)
    {
        if (_coalescer is not { Count: > 0 } coalescer)
        {
            return;
        }

        if (IsStale(channel))
        {
            coalescer.Clear();
            return;
        }

        WriteGroup();
        if (!_receiveStopped && !IsStale(channel) && channel.Consumer.Release())
        {
            channel.Port.Notify();
        }
    }

    /// <summary>Writes the pending UDP group with one writev: its headers (one GSO super-packet for several records), then every payload from shared memory.</summary>
    private void WriteGroup()
    {
        var coalescer = _coalescer!;
        int records = coalescer.Count;
        coalescer.BuildHeaders();
        bool written = _dataPath.WriteToTun(_group!);
        coalescer.Clear();
        _group!.Clear();
        if (!written)
        {
            Counters.RxTunErrors += records;
            return;
        }

        Counters.RxPackets += records;
        Counters.RxBytes += _groupBytes;
        if (records > 1)
        {
            Counters.RxCoalesced += records;
            Counters.RxSuperPackets++;
        }
    }

    /// <summary>
    /// Before the data thread sleeps: arms the peer's notification for this ring. False: records
    /// arrived meanwhile (or the peer is corrupt), do not sleep.
    /// </summary>
    internal bool PrepareToSleep()
    {
        var channel = _channel;
        return _receiveStopped || channel is null || IsStale(channel) || channel.Consumer.PrepareToSleep();
    }

    /// <summary>
    /// At close, once the data thread has given the ring back: what the peer put on it before the
    /// route went is delivered, bounded by one ring's worth so a peer that keeps writing cannot
    /// hold the close.
    /// </summary>
    private void DrainAtClose(Channel channel)
    {
        if (_receiveStopped)
        {
            return;
        }

        byte[] buffer = GC.AllocateUninitializedArray<byte>(ChannelNodes.MaxRecordPayload);
        for (int left = channel.Consumer.Capacity / 8; left > 0 && !IsStale(channel); left--)
        {
            var status = ReceiveOne(channel, buffer, out bool delivered, out _);
            if (status == RingReadStatus.PeerCorrupt)
            {
                FailCorruptRing(channel);
            }

            if (status != RingReadStatus.Record || !delivered)
            {
                break;
            }

            Counters.RxDrainedAtClose++;
        }

        EndGroup(channel);
        _receiveStopped = true;
    }

    private void FailCorruptRing(Channel channel)
    {
        var fault = channel.Consumer.Fault;
        Fail(PeerViolations.FromRingFault(fault), $"the peer wrote an impossible value into our receive ring ({fault})");
    }

    /// <summary>
    /// Takes one record off the receive ring, checks it and writes it into the TUN (or adds it to
    /// the pending UDP group), then gives its space back (and wakes the producer if it waits for
    /// space) unless a group still holds records. <paramref name="delivered"/> is false when the
    /// record broke the protocol (the peer is failed; its space is not released).
    /// The per-packet receive path: allocates nothing (a test proves it).
    /// </summary>
    internal RingReadStatus ReceiveOne(Channel channel, byte[] buffer, out bool delivered, out bool recheck)
    {
        var consumer = channel.Consumer;
        var status = consumer.TryRead(out var record);
        delivered = true;
        recheck = false;
        if (status == RingReadStatus.Record)
        {
            delivered = Deliver(record.Payload, buffer, out bool held);

            // Unless the record was only added to a group, Deliver made a system call: the domain
            // may have been suspended and resumed in it.
            if (!held && IsStale(channel))
            {
                recheck = true;
            }
            else if (delivered && _coalescer is not { Count: > 0 } && consumer.Release())
            {
                channel.Port.Notify();
                recheck = true;
            }
        }

        return status;
    }

    /// <summary>
    /// For tests of the per-packet path only: carry packets over <paramref name="channel"/> as if
    /// connected, without the control loop, the data thread, routes or XenStore.
    /// </summary>
    internal void AttachForTest(Channel channel)
    {
        _channel = channel;
        _closing = false;
        _receiveStopped = false;
    }

    /// <summary>
    /// How long a peer may keep sending sources outside its networks before it is cut off. An
    /// honest peer does so only while a table change has reached it before us (Dom0 granted it a
    /// network our view of its entry lacks yet); we follow within one XenStore watch event.
    /// </summary>
    internal const int BadSourceGraceMs = 5000;

    // Data thread only: when the current run of out-of-network sources began, and its last one.
    private long _badSourceStreakStart;
    private long _badSourceLast;

    /// <summary>
    /// The receive side's half of the one table: a packet from this peer is delivered only when
    /// its source lies in this peer's networks and no other published peer holds a more specific
    /// network for it (longest match, as WireGuard's allowed IPs). Anything else is dropped and
    /// counted, never delivered. A source outside the peer's networks altogether also counts
    /// towards a cut-off: when such sources keep arriving for longer than
    /// <see cref="BadSourceGraceMs"/> (no pause as long as that), the peer is disconnected as a
    /// spoofer. A source inside its networks but claimed by another peer's more specific one is
    /// an overlap Dom0 allowed, only dropped. Allocates nothing.
    /// </summary>
    private bool Admits(IpKey source)
    {
        var owner = _dataPath.OwnerOf(source);

        // Null while closing: the link has left the table, and what it drains is judged by its own networks.
        if ((owner == this || owner is null) && Sources.Lookup(source) is not null)
        {
            return true;
        }

        Counters.RxBadSource++;
        if (Sources.Lookup(source) is not null)
        {
            return false;
        }

        long now = Environment.TickCount64;
        if (_badSourceStreakStart == 0 || now - _badSourceLast > BadSourceGraceMs)
        {
            _badSourceStreakStart = now;
        }

        _badSourceLast = now;
        if (now - _badSourceStreakStart > BadSourceGraceMs && Volatile.Read(ref _failure) is null)
        {
            Fail(PeerViolation.SpoofedSource, $"the peer kept sending packets from addresses outside its networks for {BadSourceGraceMs / 1000} s (the last from {source})");
        }

        return false;
    }

    /// <summary>Bytes of each record copied privately before checking: any IPv4/IPv6 header chain a real stack sends, plus TCP's.</summary>
    private const int PrivateHeaderBytes = VirtioNetHeader.Size + 256;

    /// <summary>
    /// Checks one record on a private copy and writes it into the TUN, adds it to the pending UDP
    /// group (<paramref name="held"/>: without a system call), or drops it with a counted reason.
    /// False: the record broke the protocol (see <see cref="PeerViolation"/>), the peer is failed
    /// and nothing more of it is read.
    /// </summary>
    /// <remarks>
    /// Coalescing comes after every check, on the same private copy: a record joins a group only
    /// once it would have been written alone, and what the group writes of it is its payload
    /// (from shared memory, as a lone record's payload is); the headers written are the first
    /// record's private ones with only lengths and checksums changed. A record that cannot join
    /// writes the group out first, so the kernel gets everything in ring order.
    /// </remarks>
    private bool Deliver(ReadOnlySpan<byte> shared, byte[] buffer, out bool held)
    {
        held = false;
        int length = shared.Length;
        if (length <= VirtioNetHeader.Size)
        {
            Counters.RxMalformed[(int)PacketDropReason.Truncated]++;
            Fail(PeerViolation.MalformedPacket, $"a {length}-byte record holds no packet");
            return false;
        }

        var reason = ParsePrivateCopy(shared, buffer, validateVnet: true, out var info, out int copied);
        var record = buffer.AsSpan(0, length);
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

        if (!Admits(info.Source))
        {
            // Dropped; after a cut-off nothing more of this peer is read.
            return Volatile.Read(ref _failure) is null;
        }

        // Our own address set may lag a change on our side: a peer is not blamed for that.
        if (!_dataPath.IsLocalAddress(info.Destination))
        {
            Counters.RxBadDestination++;
            return true;
        }

        int end = VirtioNetHeader.Size + info.Length;
        if (_coalescer is { } coalescer)
        {
            var checkedBytes = buffer.AsSpan(0, Math.Min(copied, end));
            switch (coalescer.Classify(checkedBytes, info))
            {
                case UdpCoalescing.Join:
                    coalescer.Join(info);
                    _group!.Add(shared[UdpCoalescer.PayloadOffset(info)..end]);
                    _groupBytes += end;
                    held = true;
                    return true;
                case UdpCoalescing.Begin:
                    held = coalescer.Count == 0;
                    if (!held)
                    {
                        WriteGroup();
                    }

                    coalescer.Begin(checkedBytes, info);
                    _group!.Add(coalescer.Headers);
                    _group.Add(shared[UdpCoalescer.PayloadOffset(info)..end]);
                    _groupBytes = end;
                    return true;
                default:
                    if (coalescer.Count > 0)
                    {
                        WriteGroup();
                    }

                    break;
            }
        }

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

    /// <summary>
    /// Copies the headers of a record that lies in shared memory into <paramref name="buffer"/>
    /// and parses that private copy (with its virtio-net header checked when
    /// <paramref name="validateVnet"/>), so nothing the peer changes meanwhile can alter what was
    /// checked. <paramref name="copied"/>: how many leading bytes the buffer now holds.
    /// </summary>
    private static PacketDropReason ParsePrivateCopy(ReadOnlySpan<byte> shared, byte[] buffer, bool validateVnet, out PacketInfo info, out int copied)
    {
        int length = shared.Length;
        copied = Math.Min(length, PrivateHeaderBytes);
        shared[..copied].CopyTo(buffer);
        var record = buffer.AsSpan(0, length);
        var reason = Parse(record, validateVnet, out info);

        // The parser may have looked past the private bytes (a long IPv6 extension chain), where
        // the buffer holds an older packet: then parse a private copy of the whole record.
        if (copied < length && (reason != PacketDropReason.None || VirtioNetHeader.Size + info.TransportOffset + PacketParser.MaxTransportHeaderLength > copied))
        {
            shared[copied..].CopyTo(buffer.AsSpan(copied));
            copied = length;
            reason = Parse(record, validateVnet, out info);
        }

        return reason;
    }

    private static PacketDropReason Parse(ReadOnlySpan<byte> record, bool validateVnet, out PacketInfo info)
    {
        var reason = PacketParser.TryParse(record[VirtioNetHeader.Size..], out info);
        return reason != PacketDropReason.None || !validateVnet ? reason : PacketParser.ValidateVnet(record[..VirtioNetHeader.Size], info);
    }
}
