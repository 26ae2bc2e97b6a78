using Microsoft.Extensions.Options;
using XenVmc.Dom0;
using XenVmc.Platform.Hosting;
using XenVmc.XenStore;

namespace XenVmc.Dom0Daemon;

/// <summary>Dom0's work on the host: the XenStore connection, its health probe for the watchdog, and the reconcile loop.</summary>
internal sealed class Dom0Service(IOptions<Dom0Configuration> options, DaemonServiceContext context) : DaemonService(context)
{
    protected override async Task RunAsync(CancellationToken ct)
    {
        var config = options.Value;
        await using var store = config.Store is null ? XenStoreClient.OpenDefault() : XenStoreClient.ConnectSocket(config.Store);
        await using var health = Dom0Health.Start(store, Notifier);
        await XenVmc.Dom0.Dom0Daemon.RunAsync(store, Logger, Notifier.Ready, Notifier.Status, ct, config.Pairing, readFilters: true).ConfigureAwait(false);
    }
}
