using Xunit;

namespace XenVmc.Linux.Tests;

public class EventFdTests
{
    [Fact]
    public void Signal_AddsUp_ConsumeReadsAndResets()
    {
        using EventFd eventFd = EventFd.Create(nonBlocking: true);

        eventFd.Signal(3);
        eventFd.Signal();

        Assert.Equal(4ul, eventFd.Consume());
        Assert.Equal(0ul, eventFd.Consume());
    }

    [Fact]
    public void SemaphoreMode_ConsumesOneAtATime()
    {
        using EventFd eventFd = EventFd.Create(nonBlocking: true, semaphore: true);

        eventFd.Signal(2);

        Assert.Equal(1ul, eventFd.Consume());
        Assert.Equal(1ul, eventFd.Consume());
        Assert.Equal(0ul, eventFd.Consume());
    }

    [Fact]
    public void NonBlocking_OverflowingSignal_LeavesTheCounterSaturated()
    {
        using EventFd eventFd = EventFd.Create(nonBlocking: true);
        eventFd.Signal(ulong.MaxValue - 1);

        eventFd.Signal(5); // would exceed 0xfffffffffffffffe: EAGAIN, and the reader is awake anyway

        Assert.Equal(ulong.MaxValue - 1, eventFd.Consume());
    }

    [Fact]
    public void Poll_SeesSignal()
    {
        using EventFd eventFd = EventFd.Create();
        PollEntry[] entries = [new PollEntry(eventFd.Handle, Poll.POLLIN)];
        var revents = new short[1];

        Assert.Equal(0, Poll.Wait(entries, revents, 0));
        Assert.Equal(0, revents[0]);
        eventFd.Signal();
        Assert.Equal(1, Poll.Wait(entries, revents, 0));
        Assert.Equal(Poll.POLLIN, revents[0]);
        Assert.Equal(1ul, eventFd.Consume());
    }

    [Fact]
    public void BlockingConsume_IsWokenBySignalFromAnotherThread()
    {
        using EventFd eventFd = EventFd.Create();
        ulong consumed = 0;
        var consumer = new Thread(() => consumed = eventFd.Consume()) { IsBackground = true };

        consumer.Start();
        Thread.Sleep(50);
        eventFd.Signal(7);

        Assert.True(consumer.Join(5000));
        Assert.Equal(7ul, consumed);
    }

    [Fact]
    public void FromHandle_SharesTheKernelCounter()
    {
        using EventFd original = EventFd.Create(nonBlocking: true);
        using var duplicate = EventFd.FromHandle(new SafeFileDescriptor(original.Handle.DangerousFd, ownsHandle: false));

        duplicate.Signal(9);

        Assert.Equal(9ul, original.Consume());
    }

    [Fact]
    public void Signal_AfterDispose_IsObjectDisposed()
    {
        EventFd eventFd = EventFd.Create();
        eventFd.Dispose();

        Assert.Throws<ObjectDisposedException>(() => eventFd.Signal());
    }
}
