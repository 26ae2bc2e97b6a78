namespace XenVmc.Rings;

/// <summary>
/// Where one ring's fields live in shared memory, resolved once when a producer or consumer is
/// built: the data window and the four index and flag words of the control page.
/// </summary>
internal readonly unsafe struct RingShared
{
    public RingShared(ChannelControl control, int ring, MemoryWindow data, int maxPayload)
    {
        Size = RingGeometry.CheckAndGetSize(control, ring, data, maxPayload);
        Mask = Size - 1;
        MaxPayload = maxPayload;
        Data = data.Pointer;
        Prod = control.Field(ChannelLayout.ProducerIndexOffset(ring));
        ProducerWaiting = control.Field(ChannelLayout.ProducerWaitingOffset(ring));
        Cons = control.Field(ChannelLayout.ConsumerIndexOffset(ring));
        ConsumerSleeping = control.Field(ChannelLayout.ConsumerSleepingOffset(ring));
    }

    public byte* Data { get; }

    public uint* Prod { get; }

    public uint* ProducerWaiting { get; }

    public uint* Cons { get; }

    public uint* ConsumerSleeping { get; }

    public uint Size { get; }

    public uint Mask { get; }

    public int MaxPayload { get; }
}
