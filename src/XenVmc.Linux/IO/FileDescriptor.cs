using System.Runtime.InteropServices;
using XenVmc.Linux.Interop;

namespace XenVmc.Linux;

/// <summary>
/// Plain read/write on a character device or any other descriptor that has no richer type here
/// (for example /dev/xen/xenbus). EINTR is retried; other errors are <see cref="LinuxException"/>s
/// naming <paramref name="objectName"/>.
/// </summary>
public static class FileDescriptor
{
    /// <summary>Opens an existing file or device read-write (O_CLOEXEC).</summary>
    public static SafeFileDescriptor OpenReadWrite(string path) => SharedMemoryFile.Open(path, writable: true);

    /// <summary>One read(2); 0 at end of file, -1 if non-blocking and nothing is there.</summary>
    public static unsafe int Read(SafeFileDescriptor fd, Span<byte> buffer, string objectName)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                nint n = Libc.Read(fd, p, buffer.Length);
                if (n >= 0)
                {
                    return (int)n;
                }

                int errno = Marshal.GetLastPInvokeError();
                if (errno == (int)Errno.EAGAIN)
                {
                    return -1;
                }

                if (errno != (int)Errno.EINTR)
                {
                    throw new LinuxException(errno, "read", objectName);
                }
            }
        }
    }

    /// <summary>Writes all of <paramref name="data"/>, in as many write(2) calls as it takes.</summary>
    public static unsafe void WriteAll(SafeFileDescriptor fd, ReadOnlySpan<byte> data, string objectName)
    {
        fixed (byte* p = data)
        {
            int done = 0;
            while (done < data.Length)
            {
                nint n = Libc.Write(fd, p + done, data.Length - done);
                if (n >= 0)
                {
                    done += (int)n;
                    continue;
                }

                int errno = Marshal.GetLastPInvokeError();
                if (errno != (int)Errno.EINTR)
                {
                    throw new LinuxException(errno, "write", objectName);
                }
            }
        }
    }

    /// <summary>True if <paramref name="path"/> is a unix socket (as libxenstore decides between socket and device).</summary>
    public static bool IsSocket(string path) =>
        Libc.StatxPath(Libc.AT_FDCWD, path, 0, Libc.STATX_TYPE, out Libc.Statx st) == 0 && (st.Mode & Libc.S_IFMT) == Libc.S_IFSOCK;
}
