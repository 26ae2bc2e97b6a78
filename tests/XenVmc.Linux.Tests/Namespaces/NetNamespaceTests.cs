using Xunit;

namespace XenVmc.Linux.Tests;

public class NetNamespaceTests
{
    [Fact]
    public void UnshareCurrentThread_MovesOnlyThisThread_IntoAnEmptyNamespace()
    {
        string host = NamespaceId("/proc/self/ns/net");
        string? inside = null;

        NetnsThread.Run(() =>
        {
            inside = NamespaceId(NetNamespace.CurrentThreadPath);
            Assert.Equal(inside, NamespaceId("/proc/thread-self/ns/net"));
            Assert.Equal(1, NetworkInterfaces.GetIndex("lo"));
            Assert.Equal(["lo"], Ip.Json("link", "show").Select(l => l.GetProperty("ifname").GetString()));
        });

        Assert.StartsWith("net:[", host);
        Assert.NotEqual(host, inside);
        Assert.Equal(host, NamespaceId("/proc/thread-self/ns/net"));
    }

    [Fact]
    public void OpenCurrentThenEnter_ReturnsToTheFirstNamespace() => NetnsThread.Run(() =>
    {
        using SafeFileDescriptor first = NetNamespace.OpenCurrent();
        string firstId = NamespaceId(NetNamespace.CurrentThreadPath);
        using TunDevice tun = TunDevice.Open("xvmcns0", new TunOpenOptions());

        NetNamespace.UnshareCurrentThread();
        Assert.NotEqual(firstId, NamespaceId(NetNamespace.CurrentThreadPath));
        Assert.Equal("ENODEV", Assert.Throws<LinuxException>(() => NetworkInterfaces.GetIndex("xvmcns0")).ErrnoName);

        NetNamespace.Enter(first);
        Assert.Equal(firstId, NamespaceId(NetNamespace.CurrentThreadPath));
        Assert.Equal(tun.IfIndex, NetworkInterfaces.GetIndex("xvmcns0"));
    });

    [Fact]
    public void Enter_SomethingThatIsNotANamespace_IsEinval() => NetnsThread.Run(() =>
    {
        using EventFd notANamespace = EventFd.Create();

        var e = Assert.Throws<LinuxException>(() => NetNamespace.Enter(notANamespace.Handle));

        Assert.Equal("EINVAL", e.ErrnoName);
        Assert.Contains("eventfd", e.Message);
    });

    [Fact]
    public void Open_MissingPath_IsEnoentNamingIt()
    {
        var e = Assert.Throws<LinuxException>(() => NetNamespace.Open("/run/netns/xenvmc-missing"));

        Assert.Equal("ENOENT", e.ErrnoName);
        Assert.Contains("/run/netns/xenvmc-missing", e.Message);
    }

    private static string NamespaceId(string path) => new FileInfo(path).LinkTarget!;
}
