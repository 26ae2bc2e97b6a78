using Microsoft.Extensions.Options;
using XenVmc.Dom0;
using XenVmc.Platform.Hosting;

namespace XenVmc.Dom0Daemon;

/// <summary>Dom0's reconcile loop on the host: opens the XenStore connection and keeps every guest's peer table.</summary>
internal sealed class Dom0Service(IOptions<Dom0Configuration> options, Dom0StoreConnection connection, DaemonServiceContext context) : DaemonService(context)
{
    protected override async Task RunAsync(CancellationToken ct)
    {
        var config = options.Value;
        await using var store = connection.Open(config.Store);
        await XenVmc.Dom0.Dom0Daemon.RunAsync(store, Logger, Notifier.Ready, Notifier.Status, ct, config.Pairing, readFilters: true).ConfigureAwait(false);
    }
}
