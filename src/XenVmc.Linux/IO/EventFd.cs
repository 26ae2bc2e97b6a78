using XenVmc.Linux.Interop;

namespace XenVmc.Linux;

/// <summary>An eventfd(2) counter: a poll-able wake-up between threads (or processes, once its fd is passed).</summary>
/// <remarks>Signal and Consume allocate nothing; they are meant for the data path's "other side is asleep" kicks.</remarks>
public sealed class EventFd : IDisposable
{
    private EventFd(SafeFileDescriptor handle) => Handle = handle;

    public SafeFileDescriptor Handle { get; }

    public static EventFd Create(bool nonBlocking = false, bool semaphore = false)
    {
        int flags = Libc.EFD_CLOEXEC | (nonBlocking ? Libc.EFD_NONBLOCK : 0) | (semaphore ? Libc.EFD_SEMAPHORE : 0);
        return new EventFd(SafeFileDescriptor.CheckOpened(Libc.EventFd(0, flags), "create", "eventfd"));
    }

    /// <summary>Wraps an eventfd received from elsewhere (for example over <see cref="UnixFdPassing"/>); takes ownership.</summary>
    public static EventFd FromHandle(SafeFileDescriptor fd)
    {
        ArgumentNullException.ThrowIfNull(fd);
        return new EventFd(fd);
    }

    /// <summary>Adds <paramref name="value"/> to the counter, waking a reader.</summary>
    /// <remarks>
    /// In non-blocking mode a counter that would overflow (EAGAIN) is left as it is: it is non-zero, so the
    /// reader is awake anyway and the kick has done its job.
    /// </remarks>
    public unsafe void Signal(ulong value = 1)
    {
        ArgumentOutOfRangeException.ThrowIfZero(value);
        ArgumentOutOfRangeException.ThrowIfEqual(value, ulong.MaxValue);
        while (Libc.Write(Handle, (byte*)&value, sizeof(ulong)) < 0)
        {
            Errno errno = Libc.GetLastErrno();
            if (errno == Errno.EAGAIN)
            {
                return;
            }

            if (errno != Errno.EINTR)
            {
                throw new LinuxException(errno, "signal", Handle.Description);
            }
        }
    }

    /// <summary>Reads and resets the counter (semaphore mode: decrements it and returns 1).</summary>
    /// <returns>The counter; 0 when non-blocking and the counter was 0.</returns>
    public unsafe ulong Consume()
    {
        ulong value;
        while (Libc.Read(Handle, (byte*)&value, sizeof(ulong)) < 0)
        {
            Errno errno = Libc.GetLastErrno();
            if (errno == Errno.EAGAIN)
            {
                return 0;
            }

            if (errno != Errno.EINTR)
            {
                throw new LinuxException(errno, "consume", Handle.Description);
            }
        }

        return value;
    }

    public void Dispose() => Handle.Dispose();
}
