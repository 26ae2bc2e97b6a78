namespace XenVmc.Rings;

/// <summary>
/// A raw window of mapped memory: shared pages the platform layer mapped (gntalloc/gntdev on Xen,
/// a /dev/shm file in the simulation) or, in tests, native memory.
/// </summary>
/// <remarks>
/// Ownership: the window does not own the memory. Whoever mapped it unmaps it, and only after
/// every <see cref="ChannelControl"/>, <see cref="RingProducer"/> and <see cref="RingConsumer"/>
/// over it is no longer used. A window may be mapped read-only (a consumer's data ring);
/// nothing that reads through it writes through <see cref="Span"/>.
/// </remarks>
public readonly unsafe struct MemoryWindow
{
    public MemoryWindow(nint address, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (address == 0 && length != 0)
        {
            throw new ArgumentException("A non-empty window needs an address.", nameof(address));
        }

        Address = address;
        Length = length;
    }

    public nint Address { get; }

    public int Length { get; }

    public Span<byte> Span => new((void*)Address, Length);

    internal byte* Pointer => (byte*)Address;

    public override string ToString() => $"0x{Address:x}+{Length}";
}
