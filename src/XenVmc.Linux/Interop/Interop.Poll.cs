using System.Runtime.InteropServices;

namespace XenVmc.Linux.Interop;

// <poll.h>: poll(2) takes raw fds; callers keep the SafeHandles referenced for the duration.
internal static partial class Libc
{
    /// <summary><c>struct pollfd</c>, 8 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct pollfd
    {
        public int fd;
        public short events;
        public short revents;
    }

    [LibraryImport(Name, EntryPoint = "poll", SetLastError = true)]
    internal static unsafe partial int DangerousPoll(pollfd* fds, nuint nfds, int timeout);
}
