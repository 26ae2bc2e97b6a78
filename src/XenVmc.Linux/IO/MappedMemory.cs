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
        ArgumentNullException.ThrowIfNull(fd);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        int protection = Libc.PROT_READ | (writable ? Libc.PROT_WRITE : 0);
        nint address = Libc.MMap(0, (nuint)length, protection, Libc.MAP_SHARED, fd, offset);
        if (address == Libc.MAP_FAILED)
        {
            throw LinuxException.FromLastError(
                $"map {(writable ? "read-write" : "read-only")} {length} bytes at offset {offset} of", fd.Description);
        }

        return new MappedMemory(new Mapping(address, length), length, writable);
    }

    public void Dispose() => _mapping.Dispose();

    /// <summary>The munmap(2) side, as a SafeHandle so that a forgotten mapping is still released by the finalizer.</summary>
    private sealed class Mapping : SafeHandle
    {
        private readonly nuint _length;

        public Mapping(nint address, int length)
            : base(invalidHandleValue: -1, ownsHandle: true)
        {
            SetHandle(address);
            _length = (nuint)length;
        }

        public override bool IsInvalid => handle == -1;

        protected override bool ReleaseHandle() => Libc.MUnmap(handle, _length) == 0;
    }
}
