using XenVmc.Packets;

namespace XenVmc.Guest.DataPath;

/// <summary>
/// Counters of one peer link. Transmit fields are written by the TUN reader thread only, receive
/// fields by the link's receive thread only; readers (status requests) take Volatile snapshots.
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
    public readonly long[] RxMalformed = new long[Enum.GetValues<PacketDropReason>().Length];

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
