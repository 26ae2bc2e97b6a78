using XenVmc.Linux.Interop;

namespace XenVmc.Linux;

/// <summary>Files meant for <see cref="MappedMemory"/>: /dev/shm files standing in for granted pages.</summary>
public static class SharedMemoryFile
{
    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>
    /// Creates <paramref name="path"/> (O_CREAT|O_EXCL|O_CLOEXEC, read-write), sets exactly <paramref name="mode"/>
    /// (default 0600, regardless of umask) and sizes it to <paramref name="length"/> zero bytes. On failure nothing
    /// is left behind.
    /// </summary>
    public static SafeFileDescriptor Create(string path, long length, UnixFileMode mode = OwnerReadWrite)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        SafeFileDescriptor fd = SafeFileDescriptor.CheckOpened(
            Libc.Open(path, Libc.O_RDWR | Libc.O_CREAT | Libc.O_EXCL | Libc.O_CLOEXEC, (uint)mode), "create", path);
        try
        {
            if (Libc.FChmod(fd, (uint)mode) < 0)
            {
                throw LinuxException.FromLastError($"set mode {Convert.ToString((int)mode, 8)} on", path);
            }

            if (Libc.FTruncate(fd, length) < 0)
            {
                throw LinuxException.FromLastError($"set length {length} of", path);
            }

            return fd;
        }
        catch
        {
            fd.Dispose();
            Libc.Unlink(path);
            throw;
        }
    }

    /// <summary>Opens an existing file read-write or read-only (O_CLOEXEC).</summary>
    public static SafeFileDescriptor Open(string path, bool writable)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        int flags = (writable ? Libc.O_RDWR : Libc.O_RDONLY) | Libc.O_CLOEXEC;
        return SafeFileDescriptor.CheckOpened(Libc.Open(path, flags, 0), writable ? "open read-write" : "open read-only", path);
    }
}
