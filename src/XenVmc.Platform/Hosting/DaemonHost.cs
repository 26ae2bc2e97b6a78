using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using XenVmc.Linux;

namespace XenVmc.Platform.Hosting;

/// <summary>
/// What every XenVMC daemon does around its real work: logging in the systemd format when
/// systemd runs it, SIGTERM/SIGINT as a clean stop, sd_notify READY/STATUS/STOPPING, a pid file,
/// and one clear line and a non-zero exit code when it cannot go on.
/// </summary>
public static class DaemonHost
{
    /// <summary>The product version (informational version without the source revision), as <c>--version</c> prints it.</summary>
    public static string Version { get; } = (typeof(DaemonHost).Assembly
        .GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
        .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "0")
        .Split('+')[0];

    public delegate Task Body(ILogger logger, Action<string> ready, Action<string> status, CancellationToken ct);

    public static ILoggerFactory CreateLoggerFactory(LogLevel level = LogLevel.Information) => LoggerFactory.Create(builder =>
    {
        builder.SetMinimumLevel(level);
        AddConsole(builder);
    });

    /// <summary>Under systemd the journal adds its own timestamps and reads &lt;N&gt; priority prefixes; elsewhere one line with a UTC time.</summary>
    internal static void AddConsole(ILoggingBuilder logging)
    {
        if (Environment.GetEnvironmentVariable("JOURNAL_STREAM") is not null || Environment.GetEnvironmentVariable("INVOCATION_ID") is not null)
        {
            logging.AddSystemdConsole(o => o.IncludeScopes = false);
        }
        else
        {
            logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
                o.UseUtcTimestamp = true;
            });
        }
    }

    /// <summary>A body that talks to the service manager itself: READY once it serves, STATUS lines, a health check for the watchdog.</summary>
    public delegate Task MonitoredBody(ILogger logger, ServiceNotifier notifier, CancellationToken ct);

    public static Task<int> RunAsync(string name, string? pidFile, LogLevel level, Body body) =>
        RunAsync(name, pidFile, level, (logger, notifier, ct) => body(logger, notifier.Ready, notifier.Status, ct));

    public static async Task<int> RunAsync(string name, string? pidFile, LogLevel level, MonitoredBody body)
    {
        using var loggerFactory = CreateLoggerFactory(level);
        var logger = loggerFactory.CreateLogger(name);
        await using var notifier = new ServiceNotifier(logger);
        using var stop = new CancellationTokenSource();
        void Stop(PosixSignalContext c)
        {
            c.Cancel = true;
            if (!stop.IsCancellationRequested)
            {
                // Tell systemd first: the teardown (routes, channels, XenStore nodes) takes a moment.
                notifier.Stopping();
                stop.Cancel();
            }
        }

        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        if (pidFile is not null)
        {
            File.WriteAllText(pidFile, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\n");
        }

        try
        {
            await body(logger, notifier, stop.Token).ConfigureAwait(false);
            return 0;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return 0;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger.LogCritical("{Name} stops: {Reason}", name, e.Message);
            logger.LogDebug(e, "details");
            notifier.Stopping($"failed: {e.Message}");
            return 1;
        }
        finally
        {
            if (!stop.IsCancellationRequested)
            {
                notifier.Stopping();
            }

            if (pidFile is not null)
            {
                File.Delete(pidFile);
            }
        }
    }
}
