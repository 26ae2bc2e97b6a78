using System.Runtime.InteropServices;
using XenVmc.Linux.Xen;
using Xunit;

namespace XenVmc.Linux.Tests.Xen;

/// <summary>
/// The Xen devices' request numbers and layouts, checked against the values the kernel headers
/// give (linux-libc-dev 6.1: xen/gntalloc.h, xen/gntdev.h, xen/evtchn.h), and what happens where
/// the devices are missing or are not Xen devices. There is no Xen on this machine.
/// </summary>
public sealed class XenDeviceTests
{
    [Fact]
    public void IoctlNumbers_AreTheKernelHeadersValues()
    {
        Assert.Equal((nuint)0x00184705, XenIoctl.GntallocAllocGref);
        Assert.Equal((nuint)0x00104706, XenIoctl.GntallocDeallocGref);
        Assert.Equal((nuint)0x00104707, XenIoctl.GntallocSetUnmapNotify);
        Assert.Equal((nuint)0x00184700, XenIoctl.GntdevMapGrantRef);
        Assert.Equal((nuint)0x00104701, XenIoctl.GntdevUnmapGrantRef);
        Assert.Equal((nuint)0x00104707, XenIoctl.GntdevSetUnmapNotify);
        Assert.Equal((nuint)0x00084501, XenIoctl.EvtchnBindInterdomain);
        Assert.Equal((nuint)0x00044502, XenIoctl.EvtchnBindUnboundPort);
        Assert.Equal((nuint)0x00044503, XenIoctl.EvtchnUnbind);
        Assert.Equal((nuint)0x00044504, XenIoctl.EvtchnNotify);
        Assert.Equal((nuint)0x00004505, XenIoctl.EvtchnReset);
    }

    [Fact]
    public void RequestStructs_HaveTheKernelsLayout()
    {
        Assert.Equal(16, Marshal.SizeOf<XenIoctl.UnmapNotify>());
        Assert.Equal(8, (int)Marshal.OffsetOf<XenIoctl.UnmapNotify>(nameof(XenIoctl.UnmapNotify.Action)));
        Assert.Equal(12, (int)Marshal.OffsetOf<XenIoctl.UnmapNotify>(nameof(XenIoctl.UnmapNotify.EventChannelPort)));
        Assert.Equal(16, Marshal.SizeOf<XenIoctl.IndexCount>());
        Assert.Equal(8, (int)Marshal.OffsetOf<XenIoctl.IndexCount>(nameof(XenIoctl.IndexCount.Count)));
    }

    [Fact]
    public void MissingDevices_FailWithTheirPathAndEnoent()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"xenvmc-no-such-device-{Environment.ProcessId}");
        foreach (var open in new Action[] { () => GrantAllocDevice.Open(missing), () => GrantMapDevice.Open(missing), () => EventChannelDevice.Open(missing) })
        {
            var error = Assert.Throws<LinuxException>(open);
            Assert.Equal("ENOENT", error.ErrnoName);
            Assert.Contains(missing, error.Message);
        }
    }

    [Fact]
    public void ANonXenDevice_RefusesEveryRequest_WithAnErrorNamingIt()
    {
        // /dev/null takes no ioctls (ENOTTY): what a wrong device node at /dev/xen/* would do.
        using var alloc = GrantAllocDevice.Open("/dev/null");
        using var map = GrantMapDevice.Open("/dev/null");
        using var events = EventChannelDevice.Open("/dev/null");

        Assert.Equal("ENOTTY", Assert.Throws<LinuxException>(() => alloc.Allocate(2, 3, writable: true)).ErrnoName);
        Assert.Equal("ENOTTY", Assert.Throws<LinuxException>(() => alloc.ClearOnUnmap(4096 + 21)).ErrnoName);
        Assert.Equal("ENOTTY", Assert.Throws<LinuxException>(() => map.Register(2, [8, 9])).ErrnoName);
        Assert.Equal("ENOTTY", Assert.Throws<LinuxException>(() => events.BindUnbound(2)).ErrnoName);
        var notify = Assert.Throws<LinuxException>(() => events.Notify(5));
        Assert.Contains("/dev/null", notify.Message);
        Assert.Contains("port 5", notify.Message);

        // Reading /dev/null gives end of file: no port pending.
        Assert.Equal(0, events.ConsumePending());
        Assert.Throws<ArgumentException>(() => map.Register(2, []));
        Assert.Throws<ArgumentOutOfRangeException>(() => alloc.Allocate(2, 0, writable: true));
    }
}
