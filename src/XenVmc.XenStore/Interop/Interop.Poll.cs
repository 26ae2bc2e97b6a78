using System.Runtime.InteropServices;

namespace XenVmc.XenStore.Interop;

internal static partial class Interop
{
    // include/uapi/asm-generic/poll.h
    internal const short POLLIN = 0x1;
    internal const short POLLERR = 0x8;
    internal const short POLLHUP = 0x10;
    internal const short POLLNVAL = 0x20;

    /// <summary><c>struct pollfd</c> (include/uapi/asm-generic/poll.h).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct PollFd
    {
        public int Fd;
        public short Events;
        public short REvents;
    }

    /// <summary>Raw fds: the caller holds the SafeHandles alive (DangerousAddRef) around the call.</summary>
    [LibraryImport(Libc, EntryPoint = "poll", SetLastError = true)]
    internal static unsafe partial int DangerousPoll(PollFd* fds, nuint count, int timeoutMs);
}
