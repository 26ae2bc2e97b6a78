using XenVmc.Guest;
using XenVmc.Platform.Hosting;
using XenVmc.Platform.Hosting.Manual;

try
{
    var cl = CommandLine.Parse(args, [.. GuestConfiguration.CommandLineKeys.Keys, "--config", "--man"], ["--verbose", "--help", "--version"]);
    if (cl.Has("--help"))
    {
        Console.WriteLine(HelpText.Render(GuestManual.Page));
        return 0;
    }

    // Hidden: the build writes the manual pages with it (packaging/build-deb.sh).
    if (cl.Get("--man") is { } section)
    {
        Console.Write(section switch
        {
            "1" => ManPage.Program(GuestManual.Page, DaemonHost.Version),
            "5" => ManPage.Configuration(GuestManual.Page, DaemonHost.Version),
            "readme" => MarkdownTable.Configuration(GuestManual.Page),
            _ => throw new UsageException($"--man {section}: allowed 1 (the program), 5 (its configuration file) or readme (README.md's option table)"),
        });
        return 0;
    }

    if (cl.Has("--version"))
    {
        Console.WriteLine($"xenvmc-guest {DaemonHost.Version}");
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
