using XenVmc.Linux.Interop;

namespace XenVmc.Linux;

/// <summary>
/// The parts of one packet to be written with a single writev (<see cref="TunDevice.Write(GatherList)"/>):
/// private headers followed by payloads that stay where they are, for example in a ring's shared memory.
/// </summary>
/// <remarks>
/// Design: a fixed array of iovecs filled by <see cref="Add"/>, which records where each span lies;
/// allocation-free after construction. The caller guarantees that every span added points to
/// memory that does not move and stays mapped until the write (a pinned array, or native or
/// shared memory). Used by one thread at a time.
/// </remarks>
public sealed unsafe class GatherList
{
    private readonly Libc.iovec[] _vectors;

    public GatherList(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _vectors = GC.AllocateArray<Libc.iovec>(capacity, pinned: true);
    }

    /// <summary>Parts added since the last <see cref="Clear"/>.</summary>
    public int Count { get; private set; }

    /// <summary>Bytes added since the last <see cref="Clear"/>.</summary>
    public int Length { get; private set; }

    public int Capacity => _vectors.Length;

    /// <summary>Appends <paramref name="part"/>, which must not move until the write (see remarks).</summary>
    public void Add(ReadOnlySpan<byte> part)
    {
        if (Count == _vectors.Length)
        {
            throw new InvalidOperationException($"A gather list holds at most {_vectors.Length} parts.");
        }

        fixed (byte* p = part)
        {
            _vectors[Count++] = new Libc.iovec { iov_base = p, iov_len = (nuint)part.Length };
        }

        Length += part.Length;
    }

    public void Clear()
    {
        Count = 0;
        Length = 0;
    }

    /// <summary>A copy of the bytes the parts hold now, in order (for tests and diagnostics; allocates).</summary>
    public byte[] ToArray()
    {
        byte[] bytes = new byte[Length];
        int offset = 0;
        for (int i = 0; i < Count; i++)
        {
            var part = new ReadOnlySpan<byte>(_vectors[i].iov_base, (int)_vectors[i].iov_len);
            part.CopyTo(bytes.AsSpan(offset));
            offset += part.Length;
        }

        return bytes;
    }

    internal Libc.iovec* Vectors
    {
        get
        {
            fixed (Libc.iovec* p = _vectors)
            {
                // Pinned at allocation: the address stays valid after the fixed block.
                return p;
            }
        }
    }
}
