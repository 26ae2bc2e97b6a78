using Xunit;

namespace XenVmc.Linux.Tests;

public sealed class ResumeEpochTests
{
    [Fact]
    public void TheRealClocks_GiveAStableOffset_OnAMachineThatIsNotSuspended()
    {
        var epoch = new ResumeEpoch();
        long first = ResumeEpoch.ReadSleepOffset();
        for (int i = 0; i < 100_000; i++)
        {
            Assert.Equal(0, epoch.Sample());
        }

        // Preemption between the two reads only lowers a reading.
        long last = ResumeEpoch.ReadSleepOffset();
        Assert.True(last - first < ResumeEpoch.ThresholdNanoseconds, $"offset rose from {first} to {last} ns");
    }

    [Fact]
    public void AJumpOfTheBootTimeOffset_IsOneResume_AndJitterIsNone()
    {
        long offset = 7_000;
        var epoch = new ResumeEpoch(() => Volatile.Read(ref offset));
        Assert.Equal(0, epoch.Sample());

        offset += ResumeEpoch.ThresholdNanoseconds / 2;
        Assert.Equal(0, epoch.Sample());

        offset += 3_000_000_000; // 3 s away: saved and restored
        Assert.Equal(1, epoch.Sample());
        Assert.Equal(1, epoch.Sample());
        Assert.Equal(1, epoch.Current);

        offset += 2 * ResumeEpoch.ThresholdNanoseconds; // a short migration downtime
        Assert.Equal(2, epoch.Sample());
    }

    [Fact]
    public void PreemptedReadings_AreLower_AndNeverAResume()
    {
        // The first reading was preempted for 5 ms; the baseline is the largest of several.
        long[] readings = [-5_000_000, 0];
        int n = 0;
        long offset = 0;
        var epoch = new ResumeEpoch(() => n < 2 ? readings[n++] : Volatile.Read(ref offset));
        Assert.Equal(0, epoch.Sample());
        offset = -20_000_000;
        Assert.Equal(0, epoch.Sample());
        offset = 0;
        Assert.Equal(0, epoch.Sample());
        offset = 2_000_000;
        Assert.Equal(1, epoch.Sample());
    }

    [Fact]
    public void ManyThreadsSamplingOneResume_CountItOnce()
    {
        long offset = 0;
        var epoch = new ResumeEpoch(() => Volatile.Read(ref offset));
        using var start = new Barrier(4);
        long[] seen = new long[4];
        var threads = Enumerable.Range(0, 4).Select(i => new Thread(() =>
        {
            start.SignalAndWait();
            long deadline = Environment.TickCount64 + 5000;
            while (seen[i] < 1 && Environment.TickCount64 < deadline)
            {
                seen[i] = Math.Max(seen[i], epoch.Sample());
            }

            // A few more samples after the jump: none may count it again.
            for (int n = 0; n < 1000; n++)
            {
                seen[i] = Math.Max(seen[i], epoch.Sample());
            }
        })).ToArray();
        foreach (var t in threads)
        {
            t.Start();
        }

        Thread.Sleep(5);
        Volatile.Write(ref offset, 2_000_000_000);
        foreach (var t in threads)
        {
            t.Join();
        }

        Assert.Equal(1, epoch.Sample());
        Assert.All(seen, s => Assert.Equal(1, s));
    }

    [Fact]
    public void AThreadThatReadsTheJump_NeverGetsTheOldEpoch_WhileAnotherAdvancesIt()
    {
        // Every thawed thread samples at once after a resume. One that reads the new offset must
        // leave the mapping alone, so it must get the new epoch even while another thread is the
        // one moving the baseline (the earlier compare-and-swap let it return the old one).
        long offset = 0;
        long jumps = 0;
        var epoch = new ResumeEpoch(() => Volatile.Read(ref offset));
        long violations = 0;
        bool stop = false;
        var samplers = Enumerable.Range(0, 8).Select(_ => new Thread(() =>
        {
            while (!Volatile.Read(ref stop))
            {
                long before = Volatile.Read(ref jumps); // the offset moved before this was counted
                if (epoch.Sample() < before)
                {
                    Interlocked.Increment(ref violations);
                }
            }
        })).ToArray();
        foreach (var t in samplers)
        {
            t.Start();
        }

        for (int i = 1; i <= 300; i++)
        {
            Volatile.Write(ref offset, i * 2L * ResumeEpoch.ThresholdNanoseconds);
            Volatile.Write(ref jumps, i);
            long deadline = Environment.TickCount64 + 5000;
            while (epoch.Current < i && Environment.TickCount64 < deadline)
            {
                Thread.Yield();
            }

            Assert.Equal(i, epoch.Current);
        }

        Volatile.Write(ref stop, true);
        foreach (var t in samplers)
        {
            t.Join();
        }

        Assert.Equal(0, Interlocked.Read(ref violations));
    }
}
