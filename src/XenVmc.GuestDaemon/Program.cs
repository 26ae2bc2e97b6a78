using XenVmc.Guest;
using XenVmc.Platform.Hosting;
using XenVmc.Platform.Hosting.Manual;

try
{
    var cl = CommandLine.Parse(args, [.. GuestConfiguration.CommandLineKeys.Keys, "--config", .. DocumentationOptions.Values], ["--verbose", .. DocumentationOptions.Flags]);
    if (DocumentationOptions.TryPrint(cl, GuestManual.Page))
    {
        return 0;
    }

    var config = GuestConfiguration.Load(cl);
    return await DaemonHost.RunAsync("xenvmc-guest", config.PidFile, config.LogLevel, async (logger, notifier, ct) =>
    {
        using var platform = PlatformSelector.Open(config.Platform, config.Xenbus, config.Hypervisor, config.EventChannels);
        await GuestDaemon.RunAsync(platform, config.Options, logger, notifier.Ready, notifier.Status, ct, notifier);
    });
}
catch (Exception e) when (e is UsageException or ConfigurationException or ArgumentException)
{
    Console.Error.WriteLine($"xenvmc-guest: {e.Message}");
    return 2;
}
