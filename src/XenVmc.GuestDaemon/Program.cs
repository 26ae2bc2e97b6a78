using XenVmc.Guest;
using XenVmc.Platform.Hosting;

const string Help = """
    xenvmc-guest — XenVMC guest daemon: routes traffic to co-resident guests through shared memory.

    usage: xenvmc-guest [options]
      --config PATH             configuration file (default /etc/xenvmc/guest.json, if present)
      --platform xen|sim|auto   where we run (default auto: Xen when /dev/xen exists)       [Platform]
      --xenbus PATH             simulated host: this domain's XenStore socket               [Xenbus]
      --hypervisor PATH         simulated host: this domain's hypervisor socket             [Hypervisor]
      --interface NAME          TUN interface, attached if it exists (default vmc0)         [Interface]
      --mtu N                   TUN MTU, 1280 to 65535 (default 65520)                      [Mtu]
      --ring-kib N              ring size per direction in KiB, 512 or 1024 (default 512)   [RingKiB]
      --status-socket NAME      status socket, '@name' abstract or a path (default @xenvmc-guest) [StatusSocket]
      --peer-timeout-ms N       a peer silent this long is gone, 100 to 60000 (default 1500) [PeerTimeoutMs]
      --poll-us N               keep polling this long after traffic before sleeping,
                                0 to 1000 (default 50; 0: sleep at once)                    [PollUs]
      --pid-file PATH           write our pid here                                          [PidFile]
      --log-level LEVEL         Trace, Debug, Information, Warning, Error, Critical         [LogLevel]
      --verbose                 the same as --log-level Debug
      --help, --version

    Each [Key] can also be set in the configuration file ({ "Mtu": 9000 }) or the environment
    (XENVMC_GUEST_MTU=9000); the command line wins over the environment, which wins over the file.
    exit codes: 0 stopped cleanly, 1 failed while running, 2 wrong command line or configuration
    """;

try
{
    var cl = CommandLine.Parse(args, [.. GuestConfiguration.CommandLineKeys.Keys, "--config"], ["--verbose", "--help", "--version"]);
    if (cl.Has("--help"))
    {
        Console.WriteLine(Help);
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
