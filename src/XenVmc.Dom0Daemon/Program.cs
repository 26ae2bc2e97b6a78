using XenVmc.Dom0;
using XenVmc.Platform.Hosting;
using XenVmc.Platform.Hosting.Manual;
using XenVmc.XenStore;

try
{
    var cl = CommandLine.Parse(args, [.. Dom0Configuration.CommandLineKeys.Keys, "--config", .. DocumentationOptions.Values], ["--verbose", .. DocumentationOptions.Flags]);
    if (DocumentationOptions.TryPrint(cl, Dom0Manual.Page))
    {
        return 0;
    }

    var config = Dom0Configuration.Load(cl);
    return await DaemonHost.RunAsync("xenvmc-dom0", config.PidFile, config.LogLevel, async (logger, notifier, ct) =>
    {
        await using var store = config.Store is null ? XenStoreClient.OpenDefault() : XenStoreClient.ConnectSocket(config.Store);
        await using var health = Dom0Health.Start(store, notifier);
        await Dom0Daemon.RunAsync(store, logger, notifier.Ready, notifier.Status, ct, config.Pairing, readFilters: true);
    });
}
catch (Exception e) when (e is UsageException or ConfigurationException)
{
    Console.Error.WriteLine($"xenvmc-dom0: {e.Message}");
    return 2;
}
