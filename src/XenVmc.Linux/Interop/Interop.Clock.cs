using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace XenVmc.Linux.Interop;

// <time.h>: clock_gettime(2), served by the vDSO without entering the kernel.
internal static partial class Libc
{
    internal const int CLOCK_MONOTONIC = 1;
    internal const int CLOCK_BOOTTIME = 7;

    /// <summary>struct timespec on 64-bit Linux: time_t tv_sec, long tv_nsec.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport(Name, EntryPoint = "clock_gettime")]
    [SuppressGCTransition]
    internal static unsafe partial int ClockGetTime(int clock, TimeSpec* time);
}
