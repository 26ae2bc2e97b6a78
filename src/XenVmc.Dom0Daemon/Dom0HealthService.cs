using XenVmc.Dom0;
using XenVmc.Platform.Hosting;

namespace XenVmc.Dom0Daemon;

/// <summary>Dom0's health probe on the host: while XenStore answers, the watchdog is fed (<see cref="Dom0Health"/>).</summary>
internal sealed class Dom0HealthService(Dom0StoreConnection connection, DaemonServiceContext context) : DaemonService(context)
{
    protected override async Task RunAsync(CancellationToken ct)
    {
        var store = await connection.OpenedAsync(ct).ConfigureAwait(false);
        await using var health = Dom0Health.Start(store, Notifier);
        await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
    }
}
