using XenVmc.Packets;

namespace XenVmc.Guest.DataPath;

/// <summary>
/// Counters of one peer link. Written by the daemon's data thread only, except what the control
/// path writes at close once the data thread has let go of the link (the drain, the unconsumed
/// count); readers (status requests) take Volatile snapshots.
/// </summary>
internal sealed class PeerCounters
{
    public long TxPackets;
    public long TxBytes;
    public long TxRingFull;
    public long TxTooLarge;
    public long RxPackets;
    public long RxBytes;
    public long RxBadSource;
    public long RxBadDestination;
    public long RxTunErrors;
    public long Notifications;

    /// <summary>Records written into the TUN as part of a UDP GSO super-packet (of <see cref="RxSuperPackets"/>), included in <see cref="RxPackets"/>.</summary>
    public long RxCoalesced;
    public long RxSuperPackets;

    /// <summary>Records we put on the ring that the peer had not consumed when we closed the channel: lost, unless the peer drains them before it unmaps.</summary>
    public long TxUnconsumedAtClose;

    /// <summary>Records still in our receive ring at close, delivered to the TUN before unmapping.</summary>
    public long RxDrainedAtClose;
    public readonly long[] RxMalformed = new long[Enum.GetValues<PacketDropReason>().Length];

    /// <summary>Disconnections for a protocol violation, by <see cref="PeerViolation"/>.</summary>
    public readonly long[] Violations = new long[PeerViolations.Count];

    /// <summary>Adds a snapshot of <paramref name="other"/> (a live or retired link) to these totals.</summary>
    public void Add(PeerCounters other)
    {
        TxPackets += Volatile.Read(ref other.TxPackets);
        TxBytes += Volatile.Read(ref other.TxBytes);
        TxRingFull += Volatile.Read(ref other.TxRingFull);
        TxTooLarge += Volatile.Read(ref other.TxTooLarge);
        RxPackets += Volatile.Read(ref other.RxPackets);
        RxBytes += Volatile.Read(ref other.RxBytes);
        RxBadSource += Volatile.Read(ref other.RxBadSource);
        RxBadDestination += Volatile.Read(ref other.RxBadDestination);
        RxTunErrors += Volatile.Read(ref other.RxTunErrors);
        Notifications += Volatile.Read(ref other.Notifications);
        RxCoalesced += Volatile.Read(ref other.RxCoalesced);
        RxSuperPackets += Volatile.Read(ref other.RxSuperPackets);
        TxUnconsumedAtClose += Volatile.Read(ref other.TxUnconsumedAtClose);
        RxDrainedAtClose += Volatile.Read(ref other.RxDrainedAtClose);
        for (int i = 0; i < RxMalformed.Length; i++)
        {
            RxMalformed[i] += Volatile.Read(ref other.RxMalformed[i]);
        }

        for (int i = 0; i < Violations.Length; i++)
        {
            Violations[i] += Volatile.Read(ref other.Violations[i]);
        }
    }

    public long RxMalformedTotal
    {
        get
        {
            long sum = 0;
            foreach (ref readonly long n in RxMalformed.AsSpan())
            {
                sum += Volatile.Read(in n);
            }

            return sum;
        }
    }
}

/// <summary>Counters of the TUN reader for packets that have no peer to go to.</summary>
internal sealed class TunCounters
{
    public long ReadPackets;
    public long ReadBytes;
    public long NoPeer;
    public long NotConnected;
    public long ReadErrors;
    public readonly long[] Malformed = new long[Enum.GetValues<PacketDropReason>().Length];
}
