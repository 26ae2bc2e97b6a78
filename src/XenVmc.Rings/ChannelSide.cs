namespace XenVmc.Rings;

/// <summary>The two ends of a channel, named by domain id: Low allocates and grants, High maps.</summary>
public enum ChannelSide
{
    Low = 0,
    High = 1,
}

/// <summary>
/// A side's <c>live</c> byte, with libvchan's values: the Xen unmap notification clears it to
/// <see cref="Gone"/> when the side's mapping disappears, even if its process crashed.
/// </summary>
public enum ChannelLiveness : byte
{
    Gone = 0,
    Connected = 1,
    NotYetConnected = 2,
}
