using System.Runtime.InteropServices;
using XenVmc.Rings;

namespace XenVmc.Rings.Tests;

/// <summary>
/// Shared memory as the rings meet it in production: one memfd, mapped as many times as needed
/// (read-write for a producer, read-only for a consumer), every mapping fenced by an inaccessible
/// page on each side. A read or write outside a window, or a write through a read-only one,
/// kills the test process instead of passing silently.
/// </summary>
/// <remarks>Ownership: every window handed out is unmapped by <see cref="Dispose"/>.</remarks>
internal sealed unsafe partial class GuardedSharedMemory : IDisposable
{
    private const int ProtNone = 0;       // sys/mman.h
    private const int ProtRead = 1;
    private const int ProtWrite = 2;
    private const int MapShared = 0x01;
    private const int MapPrivate = 0x02;
    private const int MapFixed = 0x10;
    private const int MapAnonymous = 0x20;
    private const uint MfdCloexec = 1;   // linux/memfd.h
    private static readonly int PageSize = Environment.SystemPageSize;

    private readonly int _fd;
    private readonly List<(nint Reservation, nuint Length)> _mappings = [];

    public GuardedSharedMemory(int length)
    {
        if (length <= 0 || length % PageSize != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(length), "A whole number of pages.");
        }

        Length = length;
        _fd = MemfdCreate("xenvmc-ring-test", MfdCloexec);
        if (_fd < 0)
        {
            throw new InvalidOperationException($"memfd_create failed: errno {Marshal.GetLastPInvokeError()}");
        }

        if (Ftruncate(_fd, length) != 0)
        {
            throw new InvalidOperationException($"ftruncate failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public int Length { get; }

    /// <summary>A new mapping of the whole memory, with guard pages on both sides.</summary>
    public MemoryWindow Map(bool writable)
    {
        nuint reservationLength = (nuint)(Length + (2 * PageSize));
        nint reservation = Mmap(0, reservationLength, ProtNone, MapPrivate | MapAnonymous, -1, 0);
        if (reservation == -1)
        {
            throw new InvalidOperationException($"mmap reservation failed: errno {Marshal.GetLastPInvokeError()}");
        }

        _mappings.Add((reservation, reservationLength));
        int protection = ProtRead | (writable ? ProtWrite : 0);
        nint window = Mmap(reservation + PageSize, (nuint)Length, protection, MapShared | MapFixed, _fd, 0);
        if (window != reservation + PageSize)
        {
            throw new InvalidOperationException($"mmap of the memfd failed: errno {Marshal.GetLastPInvokeError()}");
        }

        return new MemoryWindow(window, Length);
    }

    public void Dispose()
    {
        foreach ((nint reservation, nuint length) in _mappings)
        {
            _ = Munmap(reservation, length);
        }

        _mappings.Clear();
        _ = Close(_fd);
    }

    [LibraryImport("libc", EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MemfdCreate(string name, uint flags);

    [LibraryImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
    private static partial int Ftruncate(int fd, long length);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(nint address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    private static partial int Munmap(nint address, nuint length);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
