using XenVmc.Linux.Interop;
using Xunit;

namespace XenVmc.Linux.Tests;

public class SafeFileDescriptorTests
{
    [Fact]
    public void Duplicate_IsANewCloseOnExecDescriptorForTheSameFile()
    {
        using EventFd eventFd = EventFd.Create(nonBlocking: true);
        using SafeFileDescriptor copy = SafeFileDescriptor.Duplicate(eventFd.Handle);

        Assert.NotEqual(eventFd.Handle.DangerousFd, copy.DangerousFd);
        string flags = File.ReadLines($"/proc/self/fdinfo/{copy.DangerousFd}").Single(l => l.StartsWith("flags:", StringComparison.Ordinal));
        Assert.NotEqual(0, Convert.ToInt32(flags["flags:".Length..].Trim(), 8) & Libc.O_CLOEXEC);
        using (EventFd viaCopy = EventFd.FromHandle(copy))
        {
            viaCopy.Signal(4);
        }

        Assert.True(copy.IsClosed);
        Assert.Equal(4ul, eventFd.Consume()); // the original still works after the copy is closed
    }

    [Fact]
    public void Dispose_ClosesTheDescriptor_UnlessNotOwned()
    {
        EventFd eventFd = EventFd.Create();
        int fd = eventFd.Handle.DangerousFd;
        var borrowed = new SafeFileDescriptor(fd, ownsHandle: false);

        borrowed.Dispose();
        Assert.True(File.Exists($"/proc/self/fdinfo/{fd}"));
        eventFd.Dispose();

        Assert.True(eventFd.Handle.IsClosed);
        Assert.Throws<ObjectDisposedException>(() => SafeFileDescriptor.Duplicate(eventFd.Handle));
    }
}
