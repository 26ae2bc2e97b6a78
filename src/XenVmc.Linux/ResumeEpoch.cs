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
/// epoch has moved past the one it was mapped in. A thread can also be frozen on its return from
/// an interrupt, between a sample and the touch that follows it: that window, a few instructions
/// per packet, is not closed.
/// A reading is CLOCK_BOOTTIME − CLOCK_MONOTONIC, the boot clock read first: a thread preempted
/// between the two reads sees a smaller offset, never a larger one, so preemption can hide
/// nothing but make no resume appear; the baseline is the largest of several readings. Sampling
/// reads two vDSO clocks (~40 ns), allocates nothing, and is safe from any thread.
/// </remarks>
public sealed class ResumeEpoch
{
    /// <summary>A rise of the boot-time offset by more than this is a resume (reading jitter is ~100 ns).</summary>
    public const long ThresholdNanoseconds = 1_000_000;

    /// <summary>Readings that make a baseline: one of them unpreempted is enough.</summary>
    private const int BaselineReadings = 16;

    private readonly Func<long> _offset;
    private readonly Lock _advance = new();
    private long _baseline;
    private long _epoch;

    public ResumeEpoch()
        : this(ReadSleepOffset)
    {
    }

    /// <summary>For tests: <paramref name="offset"/> stands for CLOCK_BOOTTIME − CLOCK_MONOTONIC in ns.</summary>
    public ResumeEpoch(Func<long> offset)
    {
        _offset = offset;
        _baseline = Baseline(long.MinValue);
    }

    /// <summary>The epoch as last sampled, without reading the clocks.</summary>
    public long Current => Volatile.Read(ref _epoch);

    /// <summary>Reads the clocks; returns the epoch, advanced by one if the machine resumed since the last sample.</summary>
    /// <remarks>
    /// After a resume every thawed thread may sample at once. The one that moves the baseline
    /// advances the epoch first, under a lock, so that a thread which sees the jump waits for the
    /// new epoch, and a thread which reads the new baseline reads the new epoch too.
    /// </remarks>
    public long Sample()
    {
        long offset = _offset();
        if (offset - Volatile.Read(ref _baseline) > ThresholdNanoseconds)
        {
            lock (_advance)
            {
                if (offset - _baseline > ThresholdNanoseconds)
                {
                    long baseline = Baseline(offset);
                    Volatile.Write(ref _epoch, _epoch + 1);
                    Volatile.Write(ref _baseline, baseline);
                }
            }
        }

        return Volatile.Read(ref _epoch);
    }

    /// <summary>CLOCK_BOOTTIME − CLOCK_MONOTONIC in ns (the boot clock read first): the time spent suspended since boot, less any preemption between the reads.</summary>
    public static unsafe long ReadSleepOffset()
    {
        Libc.TimeSpec boot, monotonic;
        Libc.ClockGetTime(Libc.CLOCK_BOOTTIME, &boot);
        Libc.ClockGetTime(Libc.CLOCK_MONOTONIC, &monotonic);
        return Nanoseconds(boot) - Nanoseconds(monotonic);
    }

    private long Baseline(long first)
    {
        long best = first;
        for (int i = 0; i < BaselineReadings; i++)
        {
            best = Math.Max(best, _offset());
        }

        return best;
    }

    private static long Nanoseconds(Libc.TimeSpec time) => (time.Seconds * 1_000_000_000L) + time.Nanoseconds;
}
