using Xunit;

namespace XenVmc.Linux.Tests;

public class NetworkInterfacesTests
{
    [Fact]
    public void Loopback_HasIndexOneAndMtu65536() => NetnsThread.Run(() =>
    {
        Assert.Equal(1, NetworkInterfaces.GetIndex("lo"));
        Assert.Equal(65536, NetworkInterfaces.GetMtu("lo"));
        Assert.False(NetworkInterfaces.IsUp("lo"));
        NetworkInterfaces.SetUp("lo", true);
        Assert.True(NetworkInterfaces.IsUp("lo"));
    });

    [Fact]
    public void MissingInterface_IsEnodevNamingIt() => NetnsThread.Run(() =>
    {
        var e = Assert.Throws<LinuxException>(() => NetworkInterfaces.GetIndex("nope0"));

        Assert.Equal("get index of interface 'nope0': No such device (ENODEV)", e.Message);
        Assert.Equal("ENODEV", Assert.Throws<LinuxException>(() => NetworkInterfaces.SetUp("nope0", true)).ErrnoName);
        Assert.Equal("ENODEV", Assert.Throws<LinuxException>(() => NetworkInterfaces.SetMtu("nope0", 1500)).ErrnoName);
    });

    [Fact]
    public void MtuAboveTheTunMaximum_IsEinvalNamingTheMtuAndDevice() => NetnsThread.Run(() =>
    {
        using TunDevice tun = TunDevice.Open("xvmc0", new TunOpenOptions());

        var e = Assert.Throws<LinuxException>(() => NetworkInterfaces.SetMtu("xvmc0", 65536));

        Assert.Equal("set MTU 65536 on interface 'xvmc0': Invalid argument (EINVAL)", e.Message);
    });

    [Theory]
    [InlineData("")]
    [InlineData("sixteen-bytes-00")]
    [InlineData("a\0b")]
    public void InvalidNames_AreRefusedBeforeTheKernel(string name)
    {
        Assert.Throws<ArgumentException>(() => NetworkInterfaces.GetIndex(name));
    }
}
