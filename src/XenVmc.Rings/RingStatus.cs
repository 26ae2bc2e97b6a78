namespace XenVmc.Rings;

public enum RingWriteStatus : byte
{
    /// <summary>The record is in the ring and published.</summary>
    Written,

    /// <summary>Not enough free space now; nothing was written.</summary>
    Full,

    /// <summary>The payload is larger than the ring's maximum; it will never fit.</summary>
    TooLarge,

    /// <summary>The consumer index in shared memory is impossible; the ring is dead for good.</summary>
    PeerCorrupt,
}

public enum RingReadStatus : byte
{
    /// <summary>No record is available now.</summary>
    Empty,

    /// <summary>A record was returned.</summary>
    Record,

    /// <summary>The producer index or a record header in shared memory is impossible; the ring is dead for good.</summary>
    PeerCorrupt,
}
