using XenVmc.Dom0;
using XenVmc.Platform.Hosting;
using XenVmc.XenStore;

const string Help = """
    xenvmc-dom0 — XenVMC Dom0 daemon: finds co-resident guests allowed to pair and gives each its peer table.

    usage: xenvmc-dom0 [options]
      --config PATH             configuration file (default /etc/xenvmc/dom0.json, if present)
      --store PATH              xenstored socket (default: $XENSTORED_PATH, else /var/run/xenstored/socket,
                                else /dev/xen/xenbus)                                     [Store]
      --pairing MODE            same-bridge (default) or groups                           [Pairing:Mode]
      --pid-file PATH           write our pid here                                        [PidFile]
      --log-level LEVEL         Trace, Debug, Information, Warning, Error, Critical       [LogLevel]
      --verbose                 the same as --log-level Debug
      --help, --version

    The pairing policy (Pairing: Mode, Groups, Deny, DenyPairs, Bridges, IgnoreFilters) lives in the
    configuration file; see README.md. Two guests never pair where Dom0's own packet filter (nftables,
    legacy iptables/ebtables, Open vSwitch) may concern their traffic, unless their group is listed in
    Pairing:IgnoreFilters. Each [Key] can also be set in the environment (XENVMC_DOM0_STORE=...,
    XENVMC_DOM0_PAIRING__MODE=groups); the command line wins over the environment, which wins over the file.
    exit codes: 0 stopped cleanly, 1 failed while running, 2 wrong command line or configuration
    """;

try
{
    var cl = CommandLine.Parse(args, [.. Dom0Configuration.CommandLineKeys.Keys, "--config"], ["--verbose", "--help", "--version"]);
    if (cl.Has("--help"))
    {
        Console.WriteLine(Help);
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
