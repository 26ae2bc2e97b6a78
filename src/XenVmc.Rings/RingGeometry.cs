namespace XenVmc.Rings;

/// <summary>Constructor checks shared by <see cref="RingProducer"/> and <see cref="RingConsumer"/>.</summary>
internal static class RingGeometry
{
    public static uint CheckAndGetSize(ChannelControl control, int ring, MemoryWindow data, int maxPayload)
    {
        ArgumentNullException.ThrowIfNull(control);
        int size = control.RingSize(ring);
        if (data.Length != size)
        {
            throw new ArgumentException($"Ring {ring} is {size} bytes but its window is {data.Length}.", nameof(data));
        }

        if (data.Address % ChannelLayout.RecordAlignment != 0)
        {
            throw new ArgumentException($"A ring window must be {ChannelLayout.RecordAlignment}-byte aligned (got {data}).", nameof(data));
        }

        int limit = ChannelLayout.MaxPayloadLimit(control.RingSizeLog2(ring));
        if (maxPayload < 0 || maxPayload > limit)
        {
            throw new ArgumentOutOfRangeException(nameof(maxPayload), maxPayload, $"At most a quarter of the ring ({limit}).");
        }

        return (uint)size;
    }

    public static uint RecordSize(int payloadLength) => (uint)ChannelLayout.RecordSize(payloadLength);

    public static bool IsAligned(uint index) => (index & (ChannelLayout.RecordAlignment - 1)) == 0;
}
