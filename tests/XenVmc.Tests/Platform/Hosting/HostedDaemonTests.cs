using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using XenVmc.Platform.Hosting;
using XenVmc.Tests.Support;

namespace XenVmc.Tests.Platform.Hosting;

/// <summary>
/// A daemon on the generic host: a wrong option stops it before any of its work starts, with the
/// binder's own one-line message; the work's end stops the host; a failure is exit status 1; the
/// pid file lives exactly as long as the host runs.
/// </summary>
public sealed class HostedDaemonTests
{
    private sealed record TestOptions(string? PidFile, LogLevel LogLevel, int Mtu) : IDaemonOptions;

    private static readonly string[] Keys = ["PidFile", "LogLevel", "Mtu"];

    private static DaemonConfiguration Configuration(params (string Key, string Value)[] values) => DaemonConfiguration.Load(
        "/nonexistent/xvt.json", null, "XVT_TEST_", values.ToDictionary(v => v.Key, v => v.Value), Keys, new Dictionary<string, string>());

    private static TestOptions Bind(DaemonConfiguration c) =>
        new(c.GetString("PidFile"), c.GetLogLevel("LogLevel", LogLevel.Warning), c.GetInt("Mtu", 1500, 1280, 65535));

    private sealed class Work(DaemonServiceContext context, IOptions<TestOptions> options, Func<TestOptions, CancellationToken, Task> body) : DaemonService(context)
    {
        protected override Task RunAsync(CancellationToken ct) => body(options.Value, ct);
    }

    private static HostedDaemon<TestOptions> Daemon(DaemonConfiguration configuration, Func<TestOptions, CancellationToken, Task> body)
    {
        var daemon = new HostedDaemon<TestOptions>("xvt-daemon", configuration, Bind);
        daemon.Builder.Services.AddHostedService(sp => new Work(sp.GetRequiredService<DaemonServiceContext>(), sp.GetRequiredService<IOptions<TestOptions>>(), body));
        return daemon;
    }

    [Fact]
    public async Task AWrongOption_Throws_TheBindersLine_BeforeTheWorkStarts()
    {
        bool started = false;
        var daemon = Daemon(Configuration(("Mtu", "70000")), (_, _) =>
        {
            started = true;
            return Task.CompletedTask;
        });

        var e = await Assert.ThrowsAsync<ConfigurationException>(daemon.RunAsync);
        Assert.Equal("option Mtu: '70000' is not allowed; allowed: a whole number from 1280 to 65535", e.Message);
        Assert.False(started);
    }

    [Fact]
    public async Task TheWorkGetsTheBoundOptions_AndItsEnd_StopsTheHost_WithStatus0_AndThePidFileGone()
    {
        using var dir = new TempDirectory();
        string pidFile = dir.Combine("d.pid");
        TestOptions? seen = null;
        string? pidWhileRunning = null;
        var daemon = Daemon(Configuration(("Mtu", "9000"), ("PidFile", pidFile)), (options, _) =>
        {
            seen = options;
            pidWhileRunning = File.ReadAllText(pidFile);
            return Task.CompletedTask;
        });

        Assert.Equal(0, await daemon.RunAsync().WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal(new TestOptions(pidFile, LogLevel.Warning, 9000), seen);
        Assert.Equal($"{Environment.ProcessId}\n", pidWhileRunning);
        Assert.False(File.Exists(pidFile));
    }

    [Fact]
    public async Task FailingWork_StopsTheHost_WithStatus1()
    {
        var daemon = Daemon(Configuration(("LogLevel", "Critical")), (_, _) => throw new IOException("the store went away"));
        Assert.Equal(1, await daemon.RunAsync().WaitAsync(TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public async Task AStopOfTheHost_CancelsTheWork_WithStatus0()
    {
        var daemon = Daemon(Configuration(), async (_, ct) => await Task.Delay(Timeout.Infinite, ct));
        var lifetime = default(IHostApplicationLifetime);
        daemon.Builder.Services.AddHostedService(sp =>
        {
            lifetime = sp.GetRequiredService<IHostApplicationLifetime>();
            return new StopWhenStarted(lifetime);
        });

        Assert.Equal(0, await daemon.RunAsync().WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.NotNull(lifetime);
    }

    private sealed class StopWhenStarted(IHostApplicationLifetime lifetime) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            lifetime.ApplicationStarted.Register(lifetime.StopApplication);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
