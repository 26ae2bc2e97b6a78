using System.Runtime.InteropServices;
using XenVmc.Linux.Interop;

namespace XenVmc.Linux;

/// <summary>A MAP_SHARED mapping of a file (a /dev/shm file, a grant device); unmapped on Dispose.</summary>
/// <remarks>
/// Ownership: spans from <see cref="Span"/> and <see cref="ReadOnlySpan"/> point into the mapping and are not
/// tracked; whoever holds them keeps this object alive and undisposed until they are gone. A read-only mapping
/// hands out no writable span, because writing to it would kill the process with SIGSEGV rather than throw.
/// </remarks>
public sealed class MappedMemory : IDisposable
{
    private readonly Mapping _mapping;

    private MappedMemory(Mapping mapping, int length, bool writable)
    {
        _mapping = mapping;
        Length = length;
        Writable = writable;
    }

    public nint Address => _mapping.DangerousGetHandle();

    public int Length { get; }

    public bool Writable { get; }

    /// <summary>The mapped bytes. Throws <see cref="InvalidOperationException"/> for a read-only mapping.</summary>
    public unsafe Span<byte> Span
    {
        get
        {
            if (!Writable)
            {
                throw new InvalidOperationException("read-only mapping: use ReadOnlySpan");
            }

            ObjectDisposedException.ThrowIf(_mapping.IsClosed, this);
            return new Span<byte>((void*)Address, Length);
        }
    }

    public unsafe ReadOnlySpan<byte> ReadOnlySpan
    {
        get
        {
            ObjectDisposedException.ThrowIf(_mapping.IsClosed, this);
            return new ReadOnlySpan<byte>((void*)Address, Length);
        }
    }

    /// <summary>mmap(MAP_SHARED) of <paramref name="length"/> bytes at <paramref name="offset"/> (a page multiple).</summary>
    public static MappedMemory Map(SafeFileDescriptor fd, long offset, int length, bool writable)
    {
        CheckArguments(fd, offset, length);
        nint address = Libc.MMap(0, (nuint)length, Protection(writable), Libc.MAP_SHARED, fd, offset);
        if (address == Libc.MAP_FAILED)
        {
            throw MapFailed(fd, offset, length, writable);
        }

        return new MappedMemory(new Mapping(address, length), length, writable);
    }

    /// <summary>
    /// Like <see cref="Map"/>, but the mapping starts on a <paramref name="block"/> boundary and
    /// nothing else shares its blocks: the rest of the last block stays reserved (PROT_NONE, no
    /// pages) until the mapping is disposed. One x86-64 page table (L1) maps 2 MiB, so with
    /// <c>block</c> = 2 MiB the page tables that hold this mapping hold no other.
    /// </summary>
    /// <remarks>
    /// Why: on a Xen PV guest, a page table that held a grant mapping (gntdev) at a save or
    /// migration comes back without its entries, and whatever else it mapped comes back as zero
    /// pages, a thread's TLS block among them if it shared the page table.
    /// </remarks>
    public static MappedMemory MapIsolated(SafeFileDescriptor fd, long offset, int length, bool writable, int block)
    {
        CheckArguments(fd, offset, length);
        if (block <= 0 || (block & (block - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(block), block, "a power of two");
        }

        nuint span = ((nuint)length + (nuint)block - 1) & ~((nuint)block - 1);
        nuint reserved = span + (nuint)block;
        nint start = Libc.MMapAnonymous(0, reserved, Libc.PROT_NONE, Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_NORESERVE);
        if (start == Libc.MAP_FAILED)
        {
            throw LinuxException.FromLastError($"reserve {reserved} bytes of address space for", fd.Description);
        }

        // Keep [aligned, aligned + span) and give back the slack on either side.
        nint aligned = (nint)(((nuint)start + (nuint)block - 1) & ~((nuint)block - 1));
        if (aligned != start)
        {
            Libc.MUnmap(start, (nuint)(aligned - start));
        }

        nuint after = (nuint)(start + (nint)reserved - (aligned + (nint)span));
        if (after != 0)
        {
            Libc.MUnmap(aligned + (nint)span, after);
        }

        nint address = Libc.MMap(aligned, (nuint)length, Protection(writable), Libc.MAP_SHARED | Libc.MAP_FIXED, fd, offset);
        if (address == Libc.MAP_FAILED)
        {
            var error = MapFailed(fd, offset, length, writable);
            Libc.MUnmap(aligned, span);
            throw error;
        }

        return new MappedMemory(new Mapping(aligned, span), length, writable);
    }

    private static void CheckArguments(SafeFileDescriptor fd, long offset, int length)
    {
        ArgumentNullException.ThrowIfNull(fd);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
    }

    private static int Protection(bool writable) => Libc.PROT_READ | (writable ? Libc.PROT_WRITE : 0);

    /// <summary>The error of the mmap(2) that just failed (errno is read here, before anything else runs).</summary>
    private static LinuxException MapFailed(SafeFileDescriptor fd, long offset, int length, bool writable) =>
        LinuxException.FromLastError($"map {(writable ? "read-write" : "read-only")} {length} bytes at offset {offset} of", fd.Description);

    public void Dispose() => _mapping.Dispose();

    /// <summary>The munmap(2) side, as a SafeHandle so that a forgotten mapping is still released by the finalizer.</summary>
    private sealed class Mapping : SafeHandle
    {
        private readonly nuint _length;

        public Mapping(nint address, int length)
            : this(address, (nuint)length)
        {
        }

        public Mapping(nint address, nuint length)
            : base(invalidHandleValue: -1, ownsHandle: true)
        {
            SetHandle(address);
            _length = length;
        }

        public override bool IsInvalid => handle == -1;

        protected override bool ReleaseHandle() => Libc.MUnmap(handle, _length) == 0;
    }
}
