using System.Diagnostics;
using Xunit;

namespace XenVmc.Linux.Tests;

public class PollTests
{
    [Fact]
    public void Timeout_ReturnsZeroAfterRoughlyTheTimeout()
    {
        using EventFd eventFd = EventFd.Create();
        var stopwatch = Stopwatch.StartNew();

        int ready = Poll.Wait([new PollEntry(eventFd.Handle, Poll.POLLIN)], new short[1], 100);

        Assert.Equal(0, ready);
        Assert.InRange(stopwatch.ElapsedMilliseconds, 90, 5000);
    }

    [Fact]
    public void Infinite_IsWokenByAnotherThread_AndReportsOnlyTheReadyEntry()
    {
        using EventFd idle = EventFd.Create();
        using EventFd kicked = EventFd.Create();
        var revents = new short[2];
        int ready = -1;
        var waiter = new Thread(() => ready = Poll.Wait(
            [new PollEntry(idle.Handle, Poll.POLLIN), new PollEntry(kicked.Handle, Poll.POLLIN)], revents, -1))
        { IsBackground = true };

        waiter.Start();
        Thread.Sleep(50);
        kicked.Signal();

        Assert.True(waiter.Join(5000));
        Assert.Equal(1, ready);
        Assert.Equal(0, revents[0]);
        Assert.Equal(Poll.POLLIN, revents[1]);
    }

    [Fact]
    public void ManyDescriptors_BeyondTheStackLimit()
    {
        EventFd[] eventFds = Enumerable.Range(0, 40).Select(_ => EventFd.Create()).ToArray();
        try
        {
            eventFds[37].Signal();
            var revents = new short[40];

            int ready = Poll.Wait(eventFds.Select(e => new PollEntry(e.Handle, Poll.POLLIN)).ToArray(), revents, 0);

            Assert.Equal(1, ready);
            Assert.Equal(Poll.POLLIN, revents[37]);
            Assert.Equal(39, revents.Count(r => r == 0));
        }
        finally
        {
            foreach (EventFd e in eventFds)
            {
                e.Dispose();
            }
        }
    }

    [Fact]
    public void ReventsShorterThanEntries_IsArgumentException()
    {
        using EventFd eventFd = EventFd.Create();

        Assert.Throws<ArgumentException>(() => Poll.Wait([new PollEntry(eventFd.Handle, Poll.POLLIN)], Span<short>.Empty, 0));
    }

    [Fact]
    public void DisposedHandle_IsObjectDisposed_AndLeavesOtherHandlesUsable()
    {
        using EventFd live = EventFd.Create();
        EventFd dead = EventFd.Create();
        dead.Dispose();

        Assert.Throws<ObjectDisposedException>(() =>
            Poll.Wait([new PollEntry(live.Handle, Poll.POLLIN), new PollEntry(dead.Handle, Poll.POLLIN)], new short[2], 0));
        live.Signal();
        Assert.Equal(1ul, live.Consume());
    }
}
