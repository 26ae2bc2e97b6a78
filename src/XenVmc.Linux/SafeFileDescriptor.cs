using System.Runtime.InteropServices;
using XenVmc.Linux.Interop;

namespace XenVmc.Linux;

/// <summary>An owned Linux file descriptor, closed exactly once after the last call using it returns.</summary>
/// <remarks>
/// Every P/Invoke takes the SafeHandle, so a concurrent <see cref="SafeHandle.Dispose()"/> cannot close the
/// number (and let it be reused) while a system call is still using it. The flip side: Dispose does not
/// interrupt a thread blocked in read(2) on this descriptor — wake such threads some other way (poll on an
/// <see cref="EventFd"/> too, or use non-blocking mode) before disposing.
/// </remarks>
public sealed class SafeFileDescriptor : SafeHandle
{
    private string? _description;

    /// <summary>Wraps an existing descriptor number; with <paramref name="ownsHandle"/> it is closed on dispose.</summary>
    public SafeFileDescriptor(nint preexistingHandle, bool ownsHandle)
        : base(invalidHandleValue: -1, ownsHandle)
    {
        SetHandle(preexistingHandle);
    }

    public override bool IsInvalid => handle < 0;

    /// <summary>The descriptor number. It may be closed and reused by the time it is used: prefer the handle.</summary>
    public int DangerousFd => (int)handle;

    /// <summary>What the descriptor refers to ("/dev/shm/x", "TUN 'vmc0'"), for error messages.</summary>
    internal string Description
    {
        get => _description ?? $"fd {(int)handle}";
        set => _description = value;
    }

    /// <summary>
    /// A second descriptor for the same open file (F_DUPFD_CLOEXEC), owned separately: for handing a copy to
    /// another owner, such as a peer over <see cref="UnixFdPassing"/>, while keeping this one.
    /// </summary>
    public static SafeFileDescriptor Duplicate(SafeFileDescriptor fd)
    {
        ArgumentNullException.ThrowIfNull(fd);
        return CheckOpened(Libc.Fcntl(fd, Libc.F_DUPFD_CLOEXEC, 0), "duplicate", fd.Description);
    }

    protected override bool ReleaseHandle()
    {
        // Linux releases the descriptor even when close(2) reports EINTR or EIO, so there is no retry;
        // only EBADF (a double close somewhere) counts as a failure.
        return Libc.DangerousClose((int)handle) == 0 || Libc.GetLastErrno() != Errno.EBADF;
    }

    /// <summary>Turns the result of an fd-returning call into a described handle or a <see cref="LinuxException"/>.</summary>
    internal static SafeFileDescriptor CheckOpened(int fd, string operation, string objectName)
    {
        if (fd < 0)
        {
            throw LinuxException.FromLastError(operation, objectName);
        }

        return new SafeFileDescriptor(fd, ownsHandle: true) { Description = objectName };
    }
}
