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
    public delegate Task Body(ILogger logger, Action<string> ready, Action<string> status, CancellationToken ct);

    public static ILoggerFactory CreateLoggerFactory(LogLevel level = LogLevel.Information) => LoggerFactory.Create(builder =>
    {
        builder.SetMinimumLevel(level);

        // Under systemd the journal adds its own timestamps and reads <N> priority prefixes.
        if (Environment.GetEnvironmentVariable("JOURNAL_STREAM") is not null || Environment.GetEnvironmentVariable("INVOCATION_ID") is not null)
        {
            builder.AddSystemdConsole(o => o.IncludeScopes = false);
        }
        else
        {
            builder.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
                o.UseUtcTimestamp = true;
            });
        }
    });

    public static async Task<int> RunAsync(string name, string? pidFile, LogLevel level, Body body)
    {
        using var loggerFactory = CreateLoggerFactory(level);
        var logger = loggerFactory.CreateLogger(name);
        using var stop = new CancellationTokenSource();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        if (pidFile is not null)
        {
            File.WriteAllText(pidFile, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\n");
        }

        try
        {
            await body(
                logger,
                message =>
                {
                    logger.LogInformation("ready: {Status}", message);
                    SdNotify.Notify($"READY=1\nSTATUS={message}");
                },
                message => SdNotify.Notify($"STATUS={message}"),
                stop.Token).ConfigureAwait(false);
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
            SdNotify.Notify($"STATUS=failed: {e.Message}");
            return 1;
        }
        finally
        {
            SdNotify.Notify("STOPPING=1");
            if (pidFile is not null)
            {
                File.Delete(pidFile);
            }
        }
    }
}
