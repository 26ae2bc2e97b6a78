namespace XenVmc.Linux;

/// <summary>Counters of a network interface (IFLA_STATS64). For a TUN, "tx" is towards the reading process.</summary>
public readonly record struct LinkStatistics(
    ulong RxPackets,
    ulong TxPackets,
    ulong RxBytes,
    ulong TxBytes,
    ulong RxDropped,
    ulong TxDropped);
