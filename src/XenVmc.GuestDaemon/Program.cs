using Microsoft.Extensions.Logging;
using XenVmc.Guest;
using XenVmc.Platform.Hosting;

const string Help = """
    xenvmc-guest — XenVMC guest daemon: routes traffic to co-resident guests through shared memory.

    usage: xenvmc-guest [options]
      --platform xen|sim|auto   where we run (default auto: Xen when /dev/xen exists)
      --xenbus PATH             simulated host: this domain's XenStore socket
      --hypervisor PATH         simulated host: this domain's hypervisor socket
      --interface NAME          TUN interface (default vmc0)
      --mtu N                   TUN MTU (default 65520)
      --ring-kib N              ring size per direction in KiB, 512 or 1024 (default 512)
      --peer-timeout-ms N       a peer whose heartbeat stands still this long is gone (default 1500;
                                raise it where vCPUs can be starved for seconds, e.g. under emulation)
      --status-socket NAME      status socket, '@name' for abstract (default @xenvmc-guest)
      --pid-file PATH           write our pid here
      --verbose                 debug logging
      --help, --version
    """;

try
{
    var cl = CommandLine.Parse(args,
        ["--platform", "--xenbus", "--hypervisor", "--interface", "--mtu", "--ring-kib", "--peer-timeout-ms", "--status-socket", "--pid-file"],
        ["--verbose", "--help", "--version"]);
    if (cl.Has("--help"))
    {
        Console.WriteLine(Help);
        return 0;
    }

    if (cl.Has("--version"))
    {
        Console.WriteLine($"xenvmc-guest {typeof(GuestDaemon).Assembly.GetName().Version}");
        return 0;
    }

    var options = new GuestOptions
    {
        Interface = cl.Get("--interface", "vmc0"),
        Mtu = cl.GetInt("--mtu", 65520, 1280, 65535),
        RingBytes = cl.GetInt("--ring-kib", 512, 512, 1024) * 1024,
        PeerTimeout = TimeSpan.FromMilliseconds(cl.GetInt("--peer-timeout-ms", 1500, 300, 600_000)),
        StatusSocket = cl.Get("--status-socket", GuestOptions.DefaultStatusSocket),
    };
    options.Validate();
    string platformName = cl.Get("--platform", "auto");
    string? xenbus = cl.Get("--xenbus");
    string? hypervisor = cl.Get("--hypervisor");
    return await DaemonHost.RunAsync("xenvmc-guest", cl.Get("--pid-file"), cl.Has("--verbose") ? LogLevel.Debug : LogLevel.Information, async (logger, ready, status, ct) =>
    {
        using var platform = PlatformSelector.Open(platformName, xenbus, hypervisor);
        await GuestDaemon.RunAsync(platform, options, logger, ready, status, ct);
    });
}
catch (Exception e) when (e is UsageException or ArgumentException)
{
    Console.Error.WriteLine($"xenvmc-guest: {e.Message}");
    return 2;
}
