using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace XenVmc.Platform.Hosting;

/// <summary>
/// A daemon's long-running work as a hosted service: it runs until the host stops, and when it fails
/// the daemon logs one critical line, tells the service manager why, and the host stops with exit status 1.
/// </summary>
/// <remarks>
/// Design: the work gets the host's stopping token; it ends on its own when that is cancelled. Any
/// end of the work stops the host, so a daemon never lingers with its work gone.
/// </remarks>
public abstract class DaemonService(DaemonServiceContext context) : BackgroundService
{
    protected ILogger Logger => context.Logger;

    protected ServiceNotifier Notifier => context.Notifier;

    /// <summary>The daemon's work; returns or throws <see cref="OperationCanceledException"/> once <paramref name="ct"/> is cancelled.</summary>
    protected abstract Task RunAsync(CancellationToken ct);

    protected sealed override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await RunAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            context.Logger.LogCritical("{Name} stops: {Reason}", context.Name, e.Message);
            context.Logger.LogDebug(e, "details");
            context.Notifier.Stopping($"failed: {e.Message}");
            context.Exit.Failed();
        }
        finally
        {
            context.Application.StopApplication();
        }
    }
}

/// <summary>What every <see cref="DaemonService"/> shares: the daemon's name and logger, the notifier, the exit status and the host's lifetime.</summary>
public sealed record DaemonServiceContext(string Name, ILogger Logger, ServiceNotifier Notifier, DaemonExit Exit, IHostApplicationLifetime Application);
