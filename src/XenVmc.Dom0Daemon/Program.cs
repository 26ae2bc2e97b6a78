using XenVmc.Dom0;
using XenVmc.Platform.Hosting;
using XenVmc.Platform.Hosting.Manual;
using XenVmc.XenStore;

try
{
    var cl = CommandLine.Parse(args, [.. Dom0Configuration.CommandLineKeys.Keys, "--config", "--man"], ["--verbose", "--help", "--version"]);
    if (cl.Has("--help"))
    {
        Console.WriteLine(HelpText.Render(Dom0Manual.Page));
        return 0;
    }

    // Hidden: the build writes the manual pages with it (packaging/build-deb.sh).
    if (cl.Get("--man") is { } section)
    {
        Console.Write(section switch
        {
            "1" => ManPage.Program(Dom0Manual.Page, DaemonHost.Version),
            "5" => ManPage.Configuration(Dom0Manual.Page, DaemonHost.Version),
            "readme" => MarkdownTable.Configuration(Dom0Manual.Page),
            _ => throw new UsageException($"--man {section}: allowed 1 (the program), 5 (its configuration file) or readme (README.md's option table)"),
        });
        return 0;
    }

    if (cl.Has("--version"))
    {
        Console.WriteLine($"xenvmc-dom0 {DaemonHost.Version}");
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
