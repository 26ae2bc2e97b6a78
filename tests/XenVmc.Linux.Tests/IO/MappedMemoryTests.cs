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

    /// <summary>The permission column of /proc/self/maps for the mapping starting at <paramref name="address"/>.</summary>
    private static string Permissions(nint address)
    {
        string start = ((ulong)address).ToString("x", CultureInfo.InvariantCulture);
        string line = File.ReadLines("/proc/self/maps").Single(l => l.StartsWith(start + "-", StringComparison.Ordinal));
        return line.Split(' ')[1];
    }
}
