using Microsoft.Extensions.Logging.Abstractions;
using XenVmc.Platform.Hosting;
using XenVmc.Tests.Support;

namespace XenVmc.Tests.Platform.Hosting;

/// <summary>sd_notify as systemd sees it: datagrams on a real unix socket, path or abstract.</summary>
public sealed class ServiceNotifierTests
{
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(300);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ReadyOnce_ThenStatus_ThenStopping(bool abstractSocket)
    {
        using var dir = new TempDirectory();
        using var listener = new NotifyListener(abstractSocket ? "@xvt-notify-" + Guid.NewGuid().ToString("N")[..8] : dir.Combine("notify"));
        await using var notifier = new ServiceNotifier(listener.Address, null, null, Environment.ProcessId, NullLogger.Instance);

        notifier.Ready("domain 3, vmc0 attached");
        Assert.Equal("READY=1\nSTATUS=domain 3, vmc0 attached", listener.Receive(Short));
        notifier.Ready("domain 4, vmc0 attached");
        Assert.Equal("STATUS=domain 4, vmc0 attached", listener.Receive(Short));
        notifier.Status("domain 4: 2 peers");
        Assert.Equal("STATUS=domain 4: 2 peers", listener.Receive(Short));
        notifier.Stopping();
        Assert.Equal("STOPPING=1", listener.Receive(Short));
        Assert.Null(listener.Receive(TimeSpan.FromMilliseconds(50)));
    }

    [Fact]
    public async Task Watchdog_IsFedOnlyWhileHealthy_AndStatusOnlyWhenChanged()
    {
        using var dir = new TempDirectory();
        using var listener = new NotifyListener(dir.Combine("notify"));
        await using var notifier = new ServiceNotifier(listener.Address, "2000000", null, Environment.ProcessId, NullLogger.Instance);
        Assert.Equal(TimeSpan.FromSeconds(1), notifier.WatchdogInterval);

        string? problem = null;
        string status = "2 peers";
        Assert.True(notifier.Tick(() => problem, () => status));
        Assert.Equal("WATCHDOG=1\nSTATUS=2 peers", listener.Receive(Short));
        Assert.True(notifier.Tick(() => problem, () => status));
        Assert.Equal("WATCHDOG=1", listener.Receive(Short));

        problem = "the vmc0 reader made no progress for 6 s";
        Assert.False(notifier.Tick(() => problem, () => status));
        Assert.Null(listener.Receive(TimeSpan.FromMilliseconds(100)));
        status = "3 peers";
        Assert.False(notifier.Tick(() => problem, () => status));
        Assert.Equal("STATUS=3 peers", listener.Receive(Short));

        problem = null;
        Assert.True(notifier.Tick(() => problem, () => status));
        Assert.Equal("WATCHDOG=1", listener.Receive(Short));
    }

    [Fact]
    public async Task Watch_PingsAboutEveryHalfInterval()
    {
        using var dir = new TempDirectory();
        using var listener = new NotifyListener(dir.Combine("notify"));
        await using var notifier = new ServiceNotifier(listener.Address, "400000", null, Environment.ProcessId, NullLogger.Instance);
        notifier.Watch(() => null, () => null);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal("WATCHDOG=1", listener.Receive(TimeSpan.FromSeconds(2)));
        }
    }

    [Theory]
    [InlineData("1000000", "1")]          // WATCHDOG_PID names another process: not ours to feed
    [InlineData("0", null)]               // WatchdogSec=0: off
    [InlineData("soon", null)]
    public async Task Watchdog_IsOff_WhenNotMeantForUs(string usec, string? pid)
    {
        await using var notifier = new ServiceNotifier("/run/nonexistent", usec, pid, Environment.ProcessId == 1 ? 2 : Environment.ProcessId, NullLogger.Instance);
        Assert.Null(notifier.WatchdogInterval);
    }

    [Fact]
    public async Task NotSupervised_SendsNothing_AndDoesNotFail()
    {
        await using var notifier = new ServiceNotifier(null, "1000000", null, Environment.ProcessId, NullLogger.Instance);
        Assert.False(notifier.Supervised);
        notifier.Ready("x");
        notifier.Stopping();
        Assert.False(notifier.Tick(() => null, () => "x"));
    }

    [Fact]
    public async Task AnUnreachableSocket_IsLoggedNotThrown()
    {
        var logger = new CapturingLogger();
        await using var notifier = new ServiceNotifier("/tmp/xvt-no-such-notify-socket", null, null, Environment.ProcessId, logger);
        notifier.Ready("x");
        notifier.Status("y");
        Assert.Equal(1, logger.Count("cannot notify"));
    }
}
