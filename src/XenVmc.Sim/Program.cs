using XenVmc.Platform.Hosting;
using XenVmc.Sim;

const string Help = """
    xenvmc-sim — a simulated Xen host on one Linux machine (network namespaces as guests).

    usage: xenvmc-sim <command> [options]
      up [--guests N] [--no-bypass] [--bridges B1,B2,…] [--wait S] [--grant-limit PAGES]
                      build the host: xvmc-dom0 with the bridges, guests xvmc-g1..gN, the store,
                      the hypervisor, and (unless --no-bypass) xenvmc-dom0 and xenvmc-guest; waits
                      until every guest routes its peers via vmc0, failing only when no new route
                      appears for --wait S seconds (default 30; 0 = do not wait)
      down            remove everything up made (safe twice, or after a crash)
      status          domains, daemons, peer tables and bypass routes
      daemon start|stop|kill I
                      start, stop (SIGTERM) or kill (SIGKILL) guest I's xenvmc-guest
      dom0 start|stop|kill   the same for xenvmc-dom0
      migrate I --away|--back
                      live-migrate guest I to the remote host (alone there) or back; it gets a
                      new domain id each time, its namespace stays on the bridge
      shutdown I      clean shutdown (poweroff request, daemon stopped, domain destroyed)
      destroy I       abrupt: the daemon is killed and the domain destroyed at once
      start I         create a stopped guest's domain again (new domain id) and its daemon
      hostile I --victim J [--attacks prod-index,record-length,header,source,garbage] [--valid N] [--rounds N]
                      in place of guest I's stopped daemon: a peer that pairs with guest J through
                      the real handshake, then corrupts one thing per round in its shared pages
                      and reports how J reacted (disconnect, route back to eth0)
      traffic I --peers J,K,… --start-at UNIX-MS --seconds S [--udp-pps N] [--tcp-kbps K]
                      (run inside guest I) counted UDP and checked TCP to every peer; JSON report
      demo [--seconds S]
                      bridge path, XenVMC bypass and the TUN copier reference: TCP, UDP packet
                      rate and latency, with the ratios (checks its tools first)
      store --socket PATH [--domains DIR]
                      run only the simulated xenstored, in the foreground
      store-bench --socket PATH
                      XenStore round trips and a watch storm against a running store
      reconcile-bench --socket PATH [--domains N] [--rounds R]
                      Dom0's reconcile at scale: time from one guest introduced (or destroyed)
                      to all peer tables written, against a store with xenvmc-dom0 running
      host            (used by up) the store and hypervisor process
    all commands take --run-dir DIR (default /run/xenvmc-sim) where it applies
    """;

if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
{
    Console.WriteLine(Help);
    return args.Length == 0 ? 2 : 0;
}

string[] rest = args[1..];
try
{
    return args[0] switch
    {
        "up" => await UpCommand.RunAsync(rest),
        "down" => await DownCommand.RunAsync(rest),
        "status" => await StatusCommand.RunAsync(rest),
        "demo" => await DemoCommand.RunAsync(rest),
        "daemon" => await DaemonCommand.RunAsync(rest),
        "dom0" => await DaemonCommand.RunAsync(rest, dom0: true),
        "migrate" or "shutdown" or "destroy" or "start" => await LifecycleCommand.RunAsync(args[0], rest),
        "host" => await HostCommand.RunAsync(rest),
        "store" => await StoreCommand.RunAsync(rest),
        "store-bench" => await StoreBenchCommand.RunAsync(rest),
        "reconcile-bench" => await ReconcileBenchCommand.RunAsync(rest),
        "hostile" => await HostileCommand.RunAsync(rest),
        "traffic" => await TrafficCommand.RunAsync(rest),
        "--version" => Version(),
        _ => throw new UsageException($"unknown command '{args[0]}'; try --help"),
    };
}
catch (UsageException e)
{
    Console.Error.WriteLine($"xenvmc-sim: {e.Message}");
    return 2;
}
catch (Exception e) when (e is IOException or TimeoutException or System.Net.Sockets.SocketException || XenVmc.XenStore.XenStoreFailure.Is(e))
{
    Console.Error.WriteLine($"xenvmc-sim {args[0]}: {e.Message}");
    return 1;
}

static int Version()
{
    Console.WriteLine($"xenvmc-sim {typeof(SimPaths).Assembly.GetName().Version}");
    return 0;
}
