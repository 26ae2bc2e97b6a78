using XenVmc.Linux.Interop;

namespace XenVmc.Linux;

/// <summary>
/// Counts the times this machine was suspended and resumed since the object was made. For a Xen
/// guest that includes being saved and restored and being migrated: the kernel suspends its
/// clocks then (Xen's <c>do_suspend</c> runs the syscore suspend and resume hooks), and on resume
/// it adds the time it was away to <c>CLOCK_BOOTTIME</c> and not to <c>CLOCK_MONOTONIC</c>.
/// </summary>
/// <remarks>
/// Why it matters: pages another domain granted us and that we mapped are not behind our mappings
/// any more after a resume (the new domain has no such grant mappings), and touching them faults.
/// Whoever touches such a mapping samples the epoch after each system call (the kernel freezes
/// user threads only on their way back from the kernel) and leaves the mapping alone once the
/// epoch has moved past the one it was mapped in. Sampling reads three vDSO clocks (~60 ns) and
/// allocates nothing; it is safe from any thread.
/// </remarks>
public sealed class ResumeEpoch
{
    /// <summary>A jump of the boot-time offset by more than this is a resume (reading jitter is ~100 ns).</summary>
    public const long ThresholdNanoseconds = 1_000_000;

    /// <summary>Readings whose two boot-time samples are further apart than this (a preemption in between) are not used.</summary>
    private const long MaxReadingSpreadNanoseconds = 100_000;

    private readonly Func<long> _offset;
    private long _baseline;
    private long _epoch;

    public ResumeEpoch()
        : this(ReadSleepOffset)
    {
    }

    /// <summary>For tests: <paramref name="offset"/> stands for CLOCK_BOOTTIME − CLOCK_MONOTONIC in ns, negative for "no reading".</summary>
    public ResumeEpoch(Func<long> offset)
    {
        _offset = offset;
        long first = -1;
        for (int i = 0; i < 100 && first < 0; i++)
        {
            first = offset();
        }

        // Never a reading: a later one may then count as a resume, before any mapping depends on it.
        _baseline = Math.Max(0, first);
    }

    /// <summary>The epoch as last sampled, without reading the clocks.</summary>
    public long Current => Volatile.Read(ref _epoch);

    /// <summary>Reads the clocks; returns the epoch, advanced by one if the machine resumed since the last sample.</summary>
    public long Sample()
    {
        long offset = _offset();
        long baseline = Volatile.Read(ref _baseline);
        if (offset >= 0 && offset - baseline > ThresholdNanoseconds &&
            Interlocked.CompareExchange(ref _baseline, offset, baseline) == baseline)
        {
            return Interlocked.Increment(ref _epoch);
        }

        return Volatile.Read(ref _epoch);
    }

    /// <summary>CLOCK_BOOTTIME − CLOCK_MONOTONIC in ns: the time spent suspended since boot; −1 when the reading was preempted.</summary>
    public static unsafe long ReadSleepOffset()
    {
        Libc.TimeSpec boot1, monotonic, boot2;
        Libc.ClockGetTime(Libc.CLOCK_BOOTTIME, &boot1);
        Libc.ClockGetTime(Libc.CLOCK_MONOTONIC, &monotonic);
        Libc.ClockGetTime(Libc.CLOCK_BOOTTIME, &boot2);
        long b1 = Nanoseconds(boot1);
        if (Nanoseconds(boot2) - b1 > MaxReadingSpreadNanoseconds)
        {
            return -1;
        }

        return Math.Max(0, b1 - Nanoseconds(monotonic));
    }

    private static long Nanoseconds(Libc.TimeSpec time) => (time.Seconds * 1_000_000_000L) + time.Nanoseconds;
}
