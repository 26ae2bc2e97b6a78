using System.Net.Sockets;
using System.Text;
using XenVmc.Linux.Interop;
using Xunit;

namespace XenVmc.Linux.Tests;

public class SdNotifyTests
{
    [Fact]
    public void PathSocket_ReceivesOneDatagramWithTheState() => NetnsThread.Run(() =>
    {
        string path = Path.Combine(Path.GetTempPath(), $"xenvmc-notify-{Guid.NewGuid():N}.sock");
        try
        {
            using var manager = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified) { ReceiveTimeout = 5000 };
            manager.Bind(new UnixDomainSocketEndPoint(path));

            Assert.True(SdNotify.Notify("READY=1\nSTATUS=vmc0 up, 0 peers", path));

            var buffer = new byte[4096];
            int n = manager.Receive(buffer);
            Assert.Equal("READY=1\nSTATUS=vmc0 up, 0 peers", Encoding.UTF8.GetString(buffer, 0, n));
            Assert.Equal(0, manager.Available);
        }
        finally
        {
            File.Delete(path);
        }
    });

    [Fact]
    public void AbstractSocket_AddressIsLengthExact() => NetnsThread.Run(() =>
    {
        // Abstract names belong to the network namespace, hence the private one. The manager binds the name
        // with its exact length, as systemd does: a sender that appended a NUL would reach a different name.
        string name = $"xenvmc-notify-{Guid.NewGuid():N}";
        using SafeFileDescriptor manager = BindAbstractDatagramSocket(name);

        Assert.True(SdNotify.Notify("WATCHDOG=1", "@" + name));

        Assert.Equal("WATCHDOG=1", ReceiveString(manager));
        var e = Assert.Throws<LinuxException>(() => SdNotify.Notify("READY=1", "@" + name + "-other"));
        Assert.Equal("ECONNREFUSED", e.ErrnoName);
        Assert.Contains($"NOTIFY_SOCKET '@{name}-other'", e.Message);
    });

    [Fact]
    public void EnvironmentVariable_IsUsed_AndUnsetMeansNotSupervised() => NetnsThread.Run(() =>
    {
        string name = $"xenvmc-notify-{Guid.NewGuid():N}";
        using SafeFileDescriptor manager = BindAbstractDatagramSocket(name);
        string? saved = Environment.GetEnvironmentVariable("NOTIFY_SOCKET");
        try
        {
            Environment.SetEnvironmentVariable("NOTIFY_SOCKET", "@" + name);
            Assert.True(SdNotify.Notify("STOPPING=1"));
            Assert.Equal("STOPPING=1", ReceiveString(manager));

            Environment.SetEnvironmentVariable("NOTIFY_SOCKET", null);
            Assert.False(SdNotify.Notify("READY=1"));
        }
        finally
        {
            Environment.SetEnvironmentVariable("NOTIFY_SOCKET", saved);
        }
    });

    [Theory]
    [InlineData("vsock:2:1234")]
    [InlineData("relative/path")]
    public void UnsupportedAddress_IsEafnosupport(string address)
    {
        var e = Assert.Throws<LinuxException>(() => SdNotify.Notify("READY=1", address));

        Assert.Equal("EAFNOSUPPORT", e.ErrnoName);
        Assert.Contains(address, e.Message);
    }

    [Fact]
    public void MissingPathSocket_IsLinuxExceptionNamingIt()
    {
        string path = $"/tmp/xenvmc-missing-{Guid.NewGuid():N}.sock";

        var e = Assert.Throws<LinuxException>(() => SdNotify.Notify("READY=1", path));

        Assert.Equal("ENOENT", e.ErrnoName);
        Assert.Equal($"send notification to NOTIFY_SOCKET '{path}': No such file or directory (ENOENT)", e.Message);
    }

    private static unsafe SafeFileDescriptor BindAbstractDatagramSocket(string name)
    {
        SafeFileDescriptor socket = SafeFileDescriptor.CheckOpened(
            Libc.Socket(Libc.AF_UNIX, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0), "open", "test manager socket");
        var address = new Libc.sockaddr_un { sun_family = Libc.AF_UNIX };
        byte[] bytes = Encoding.UTF8.GetBytes(name);
        bytes.CopyTo(new Span<byte>(address.sun_path + 1, 107));
        Assert.Equal(0, Libc.Bind(socket, &address, (uint)(2 + 1 + bytes.Length)));
        return socket;
    }

    private static unsafe string ReceiveString(SafeFileDescriptor socket)
    {
        var buffer = new byte[4096];
        Assert.Equal(1, Poll.Wait([new PollEntry(socket, Poll.POLLIN)], new short[1], 5000));
        fixed (byte* p = buffer)
        {
            nint n = Libc.RecvFrom(socket, p, buffer.Length, Libc.MSG_DONTWAIT, null, null);
            Assert.True(n >= 0);
            return Encoding.UTF8.GetString(buffer, 0, (int)n);
        }
    }
}
