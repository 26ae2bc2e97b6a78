using XenVmc.Platform.Hosting;

namespace XenVmc.Tests.Platform.Hosting;

/// <summary>Which platform a daemon runs on, and the errors when it can't.</summary>
public sealed class PlatformSelectorTests
{
    [Fact]
    public void Xen_WithoutTheGrantDevices_IsAClearUsageError()
    {
        Assert.False(File.Exists("/dev/xen/gntalloc"), "this test expects a machine without Xen");
        var error = Assert.Throws<UsageException>(() => PlatformSelector.Open("xen", null, null));
        Assert.Contains("/dev/xen/gntalloc", error.Message);
        Assert.Contains("ENOENT", error.Message);
    }

    [Theory]
    [InlineData("kvm", "allowed xen, sim or auto")]
    [InlineData("sim", "--xenbus")]
    public void OtherRefusals_SayWhy(string platform, string expected)
    {
        Assert.Contains(expected, Assert.Throws<UsageException>(() => PlatformSelector.Open(platform, null, null)).Message);
    }
}
