using XenVmc.Linux.Interop;

namespace XenVmc.Linux;

/// <summary>poll(2) over <see cref="SafeFileDescriptor"/>s.</summary>
public static class Poll
{
    // <asm-generic/poll.h>
    public const short POLLIN = 0x001;
    public const short POLLPRI = 0x002;
    public const short POLLOUT = 0x004;
    public const short POLLERR = 0x008;
    public const short POLLHUP = 0x010;
    public const short POLLNVAL = 0x020;
    public const short POLLRDHUP = 0x2000;

    private const int StackLimit = 32;

    /// <summary>
    /// Waits until one of <paramref name="fds"/> is ready or <paramref name="timeoutMs"/> passes (-1: forever).
    /// EINTR is retried with the remaining time. Allocates nothing for up to 32 descriptors.
    /// </summary>
    /// <param name="revents">Receives each entry's returned events; at least as long as <paramref name="fds"/>.</param>
    /// <returns>The number of ready entries; 0 on timeout.</returns>
    public static unsafe int Wait(ReadOnlySpan<PollEntry> fds, Span<short> revents, int timeoutMs)
    {
        if (revents.Length < fds.Length)
        {
            throw new ArgumentException($"revents holds {revents.Length} entries for {fds.Length} descriptors", nameof(revents));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(timeoutMs, -1);
        Span<Libc.pollfd> pollfds = fds.Length <= StackLimit ? stackalloc Libc.pollfd[fds.Length] : new Libc.pollfd[fds.Length];
        int referenced = 0;
        try
        {
            // Referenced for the whole call: a concurrent Dispose must not let the number be reused under poll.
            for (; referenced < fds.Length; referenced++)
            {
                bool added = false;
                fds[referenced].Fd.DangerousAddRef(ref added);
                pollfds[referenced] = new Libc.pollfd { fd = fds[referenced].Fd.DangerousFd, events = fds[referenced].Events };
            }

            long deadline = timeoutMs < 0 ? 0 : Environment.TickCount64 + timeoutMs;
            int remaining = timeoutMs;
            while (true)
            {
                int ready;
                fixed (Libc.pollfd* p = pollfds)
                {
                    ready = Libc.DangerousPoll(p, (nuint)pollfds.Length, remaining);
                }

                if (ready >= 0)
                {
                    for (int i = 0; i < pollfds.Length; i++)
                    {
                        revents[i] = pollfds[i].revents;
                    }

                    return ready;
                }

                Errno errno = Libc.GetLastErrno();
                if (errno != Errno.EINTR)
                {
                    throw new LinuxException(errno, "poll", $"{fds.Length} descriptors");
                }

                if (timeoutMs >= 0)
                {
                    remaining = (int)Math.Max(0, deadline - Environment.TickCount64);
                }
            }
        }
        finally
        {
            for (int i = 0; i < referenced; i++)
            {
                fds[i].Fd.DangerousRelease();
            }
        }
    }
}
