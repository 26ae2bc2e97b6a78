using Xunit;

namespace XenVmc.Linux.Tests;

public sealed class SharedMemoryFileTests : IDisposable
{
    private readonly string _path = $"/dev/shm/xenvmc-test-{Guid.NewGuid():N}";

    public void Dispose() => File.Delete(_path);

    [Fact]
    public void Create_SizesTheFile_WithExactModeDespiteUmask()
    {
        using (SharedMemoryFile.Create(_path, 12288))
        {
            Assert.Equal(12288, new FileInfo(_path).Length);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_path));
        }

        File.Delete(_path);
        const UnixFileMode GroupShared = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;
        using (SharedMemoryFile.Create(_path, 4096, GroupShared))
        {
            Assert.Equal(GroupShared, File.GetUnixFileMode(_path));
        }
    }

    [Fact]
    public void Create_Existing_IsEexistNamingThePath()
    {
        using SafeFileDescriptor first = SharedMemoryFile.Create(_path, 4096);

        var e = Assert.Throws<LinuxException>(() => SharedMemoryFile.Create(_path, 4096));

        Assert.Equal("EEXIST", e.ErrnoName);
        Assert.Equal($"create {_path}: File exists (EEXIST)", e.Message);
    }

    [Fact]
    public void Open_Missing_IsEnoentNamingThePath()
    {
        var e = Assert.Throws<LinuxException>(() => SharedMemoryFile.Open(_path, writable: true));

        Assert.Equal(2, e.Errno);
        Assert.Equal($"open read-write {_path}: No such file or directory (ENOENT)", e.Message);
    }

    [Fact]
    public void Descriptors_AreCloseOnExec()
    {
        using SafeFileDescriptor fd = SharedMemoryFile.Create(_path, 4096);

        string flags = File.ReadLines($"/proc/self/fdinfo/{fd.DangerousFd}").Single(l => l.StartsWith("flags:", StringComparison.Ordinal));
        int octal = Convert.ToInt32(flags["flags:".Length..].Trim(), 8);
        Assert.NotEqual(0, octal & 0x80000); // O_CLOEXEC
    }
}
