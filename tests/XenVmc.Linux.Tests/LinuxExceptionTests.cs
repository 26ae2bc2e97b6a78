using Xunit;

namespace XenVmc.Linux.Tests;

public class LinuxExceptionTests
{
    [Fact]
    public void Message_NamesOperationObjectStrerrorAndErrno()
    {
        var e = new LinuxException(16, "attach or create TUN", "'vmc0'");

        Assert.Equal("attach or create TUN 'vmc0': Device or resource busy (EBUSY)", e.Message);
        Assert.Equal(16, e.Errno);
        Assert.Equal("EBUSY", e.ErrnoName);
        Assert.Equal("attach or create TUN", e.Operation);
        Assert.Equal("'vmc0'", e.ObjectName);
        Assert.Null(e.KernelMessage);
        Assert.IsType<IOException>(e, exactMatch: false);
    }

    [Fact]
    public void KernelMessage_IsAppended()
    {
        var e = new LinuxException(19, "replace route", "198.18.0.2/32 dev #9 proto 86 table 254", "Nexthop device is not up");

        Assert.Equal("replace route 198.18.0.2/32 dev #9 proto 86 table 254: No such device (ENODEV); kernel: Nexthop device is not up", e.Message);
    }

    [Fact]
    public void TwoArgumentForm_UsesTheDescriptionAsIs()
    {
        var e = new LinuxException(22, "bind event channel 5 of domain 3");

        Assert.Equal("bind event channel 5 of domain 3: Invalid argument (EINVAL)", e.Message);
        Assert.Equal("EINVAL", e.ErrnoName);
    }

    [Theory]
    [InlineData(11, "EAGAIN")]
    [InlineData(35, "EDEADLK")]
    [InlineData(95, "EOPNOTSUPP")]
    [InlineData(133, "EHWPOISON")]
    [InlineData(999, "errno 999")]
    public void ErrnoName_UsesTheKernelsPrimaryName(int errno, string name)
    {
        Assert.Equal(name, new LinuxException(errno, "x", "y").ErrnoName);
    }
}
