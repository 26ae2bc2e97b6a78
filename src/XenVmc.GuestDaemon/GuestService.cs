using Microsoft.Extensions.Options;
using XenVmc.Guest;
using XenVmc.Platform.Hosting;

namespace XenVmc.GuestDaemon;

/// <summary>The guest daemon's work on the host: the platform, the TUN and its data path, and one session per XenStore connection.</summary>
internal sealed class GuestService(IOptions<GuestConfiguration> options, DaemonServiceContext context) : DaemonService(context)
{
    protected override async Task RunAsync(CancellationToken ct)
    {
        var config = options.Value;
        using var platform = PlatformSelector.Open(config.Platform, config.Xenbus, config.Hypervisor, config.EventChannels);
        await XenVmc.Guest.GuestDaemon.RunAsync(platform, config.Options, Logger, Notifier.Ready, Notifier.Status, ct, Notifier).ConfigureAwait(false);
    }
}
