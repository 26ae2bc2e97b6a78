using Microsoft.Extensions.Logging;
using XenVmc.Dom0;
using XenVmc.Platform.Hosting;
using XenVmc.XenStore;

const string Help = """
    xenvmc-dom0 — XenVMC Dom0 daemon: finds co-resident guests allowed to pair and gives each its peer table.

    usage: xenvmc-dom0 [options]
      --store PATH      xenstored socket (default: $XENSTORED_PATH, else /var/run/xenstored/socket, else /dev/xen/xenbus)
      --pid-file PATH   write our pid here
      --verbose         debug logging
      --help, --version
    """;

try
{
    var cl = CommandLine.Parse(args, ["--store", "--pid-file"], ["--verbose", "--help", "--version"]);
    if (cl.Has("--help"))
    {
        Console.WriteLine(Help);
        return 0;
    }

    if (cl.Has("--version"))
    {
        Console.WriteLine($"xenvmc-dom0 {typeof(Dom0Daemon).Assembly.GetName().Version}");
        return 0;
    }

    string? storePath = cl.Get("--store");
    return await DaemonHost.RunAsync("xenvmc-dom0", cl.Get("--pid-file"), cl.Has("--verbose") ? LogLevel.Debug : LogLevel.Information, async (logger, ready, status, ct) =>
    {
        await using var store = storePath is null ? XenStoreClient.OpenDefault() : XenStoreClient.ConnectSocket(storePath);
        await Dom0Daemon.RunAsync(store, logger, ready, status, ct);
    });
}
catch (UsageException e)
{
    Console.Error.WriteLine($"xenvmc-dom0: {e.Message}");
    return 2;
}
