using System.Globalization;
using XenVmc.Linux.Interop;
using Xunit;

namespace XenVmc.Linux.Tests;

public sealed class MappedMemoryTests : IDisposable
{
    private readonly string _path = $"/dev/shm/xenvmc-test-{Guid.NewGuid():N}";

    public void Dispose() => File.Delete(_path);

    [Fact]
    public void TwoMappingsOfOneFile_SeeEachOthersWrites()
    {
        using SafeFileDescriptor fd = SharedMemoryFile.Create(_path, 8192);
        using MappedMemory first = MappedMemory.Map(fd, 0, 8192, writable: true);
        using MappedMemory second = MappedMemory.Map(fd, 0, 8192, writable: true);
        using MappedMemory secondPage = MappedMemory.Map(fd, 4096, 4096, writable: false);

        Assert.NotEqual(first.Address, second.Address);
        Assert.True(first.ReadOnlySpan.IndexOfAnyExcept((byte)0) < 0, "a new file reads as zeros");
        first.Span[10] = 0xAB;
        first.Span[4096 + 7] = 0xCD;

        Assert.Equal(0xAB, second.ReadOnlySpan[10]);
        Assert.Equal(0xCD, secondPage.ReadOnlySpan[7]);
        second.Span[20] = 0xEF;
        Assert.Equal(0xEF, first.ReadOnlySpan[20]);
        Assert.Equal(8192, first.Length);
    }

    [Fact]
    public void ReadOnlyMapping_IsMappedWithoutWritePermission_AndCannotBeMadeWritable()
    {
        using (SafeFileDescriptor writer = SharedMemoryFile.Create(_path, 4096))
        using (MappedMemory w = MappedMemory.Map(writer, 0, 4096, writable: true))
        {
            w.Span[0] = 42;
            Assert.Equal("rw-s", Permissions(w.Address));
        }

        using SafeFileDescriptor fd = SharedMemoryFile.Open(_path, writable: false);
        using MappedMemory mapping = MappedMemory.Map(fd, 0, 4096, writable: false);

        Assert.False(mapping.Writable);
        Assert.Equal(42, mapping.ReadOnlySpan[0]);
        Assert.Equal("r--s", Permissions(mapping.Address));
        Assert.Throws<InvalidOperationException>(() => mapping.Span.Length);
        // The kernel refuses PROT_WRITE on a shared mapping of a file opened read-only: no write can ever land.
        Assert.Equal(-1, Libc.MProtect(mapping.Address, 4096, Libc.PROT_READ | Libc.PROT_WRITE));
        Assert.Equal(Errno.EACCES, Libc.GetLastErrno());
        Assert.Equal("r--s", Permissions(mapping.Address));
    }

    [Fact]
    public void WritableMappingOfReadOnlyFd_IsEaccesNamingThePath()
    {
        using (SharedMemoryFile.Create(_path, 4096))
        {
        }

        using SafeFileDescriptor fd = SharedMemoryFile.Open(_path, writable: false);

        var e = Assert.Throws<LinuxException>(() => MappedMemory.Map(fd, 0, 4096, writable: true));
        Assert.Equal("EACCES", e.ErrnoName);
        Assert.Equal(_path, e.ObjectName);
        Assert.StartsWith($"map read-write 4096 bytes at offset 0 of {_path}: ", e.Message);
    }

    [Fact]
    public void UnalignedOffset_IsEinval()
    {
        using SafeFileDescriptor fd = SharedMemoryFile.Create(_path, 8192);

        var e = Assert.Throws<LinuxException>(() => MappedMemory.Map(fd, 100, 4096, writable: true));

        Assert.Equal("EINVAL", e.ErrnoName);
    }

    [Fact]
    public void Dispose_Unmaps()
    {
        using SafeFileDescriptor fd = SharedMemoryFile.Create(_path, 4096);
        MappedMemory mapping = MappedMemory.Map(fd, 0, 4096, writable: true);
        Assert.Contains(_path, File.ReadAllText("/proc/self/maps"));

        mapping.Dispose();

        Assert.DoesNotContain(_path, File.ReadAllText("/proc/self/maps"));
        Assert.Throws<ObjectDisposedException>(() => mapping.ReadOnlySpan.Length);
        Assert.Throws<ObjectDisposedException>(() => mapping.Span.Length);
    }

    [Fact]
    public void AnIsolatedMapping_HasItsPageTableBlocksToItself_AndDisposeReleasesThemAll()
    {
        const int Block = 2 << 20;
        using SafeFileDescriptor fd = SharedMemoryFile.Create(_path, 3 * Block);
        // 2 MiB + 1 page: two blocks, the second mostly reserved
        MappedMemory mapping = MappedMemory.MapIsolated(fd, 4096, Block + 4096, writable: true, Block);
        using (MappedMemory plain = MappedMemory.Map(fd, 4096, 4096, writable: false))
        {
            mapping.Span[0] = 0x5A;
            mapping.Span[Block + 4095] = 0xA5;
            Assert.Equal(0x5A, plain.ReadOnlySpan[0]);
        }

        ulong start = (ulong)mapping.Address;
        Assert.Equal(0UL, start % Block);
        var inBlocks = Maps().Where(m => m.Start < start + (2 * Block) && m.End > start).ToList();
        // ours, then the reserve: nothing else maps into these two page tables
        Assert.Equal(2, inBlocks.Count);
        Assert.Equal((start, start + Block + 4096, "rw-s"), (inBlocks[0].Start, inBlocks[0].End, inBlocks[0].Permissions));
        Assert.Equal((start + Block + 4096, start + (2 * Block), "---p"), (inBlocks[1].Start, inBlocks[1].End, inBlocks[1].Permissions));

        mapping.Dispose();

        Assert.DoesNotContain(Maps(), m => m.Start < start + (2 * Block) && m.End > start);
    }

    [Fact]
    public void AnIsolatedMapping_ThatTheFileRefuses_LeavesNoReservationBehind()
    {
        using SafeFileDescriptor fd = SharedMemoryFile.Create(_path, 8192);
        int before = Maps().Count(m => m.Permissions == "---p");

        var e = Assert.Throws<LinuxException>(() => MappedMemory.MapIsolated(fd, 100, 4096, writable: true, 2 << 20));

        Assert.Equal("EINVAL", e.ErrnoName);
        Assert.True(Maps().Count(m => m.Permissions == "---p") <= before, "the reserve was given back");
        Assert.Throws<ArgumentOutOfRangeException>(() => MappedMemory.MapIsolated(fd, 0, 4096, writable: true, 3 << 20));
    }

    private static List<(ulong Start, ulong End, string Permissions)> Maps() =>
        File.ReadLines("/proc/self/maps").Select(line =>
        {
            string[] fields = line.Split(' ');
            string[] range = fields[0].Split('-');
            return (ulong.Parse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                ulong.Parse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture), fields[1]);
        }).ToList();

    /// <summary>The permission column of /proc/self/maps for the mapping starting at <paramref name="address"/>.</summary>
    private static string Permissions(nint address)
    {
        string start = ((ulong)address).ToString("x", CultureInfo.InvariantCulture);
        string line = File.ReadLines("/proc/self/maps").Single(l => l.StartsWith(start + "-", StringComparison.Ordinal));
        return line.Split(' ')[1];
    }
}
