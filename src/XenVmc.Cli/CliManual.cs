using XenVmc.Guest;
using XenVmc.Platform.Hosting.Manual;

namespace XenVmc.Cli;

/// <summary>xenvmc's documentation: <c>xenvmc --help</c>, <c>xenvmc COMMAND --help</c> and xenvmc(1).</summary>
internal static class CliManual
{
    private static readonly OptionDoc Json = new("--json", null, null, null, "machine-readable output (snake_case keys)");
    private static readonly OptionDoc Socket = new("--socket", "NAME", null, GuestOptions.DefaultStatusSocket, "the daemon's status socket");

    public static ProgramManual Page { get; } = new()
    {
        Name = "xenvmc",
        Summary = "XenVMC status, peers, counters, metrics and routes",
        Synopsis = "COMMAND [options]",
        Commands =
        [
            new("status", "status [--json] [--check] [--socket NAME]",
                "The daemon: domain, platform, interface, peers, connected channels, then each peer's counters and the totals. --json prints the daemon's whole snapshot. --check exits 3 when the daemon is not registered in XenStore or a peer in its table has no connected channel (yet), for health checks in scripts.",
                [Json, new("--check", null, null, null, "exit 3 unless registered and every peer connected"), Socket]),
            new("peers", "peers [--json] [--socket NAME]",
                "One line per peer in the daemon's table: domid, channel state, side (who granted the pages), connected since, the addresses routed to it.",
                [Json, Socket]),
            new("stats", "stats [--json] [--watch [SECONDS]] [--count N] [--socket NAME]",
                "Packets, bytes and drops per peer, the totals over every link this daemon has had (closed ones included), and the TUN reader's counters.",
                [
                    Json,
                    new("--watch", "[SECONDS]", null, "1", "redraw every SECONDS with rates; Ctrl-C ends it; with --json one object per line per sample"),
                    new("--count", "N", null, null, "with --watch: stop after N samples (for scripts)"),
                    Socket,
                ]),
            new("metrics", "metrics [--output PATH] [--socket NAME]",
                "The daemon's counters and state in the Prometheus text format: per peer bytes, packets, drops, violations, channel state and age, ring occupancy; the daemon's uptime and data-thread passes; totals and the TUN reader's counters. When no daemon answers it prints xenvmc_up 0 and exits 1. No network listener: the xenvmc-metrics timer writes it for node-exporter's textfile collector.",
                [
                    new("--output", "PATH", null, null, "write to PATH atomically (a temporary file in the same directory, then rename) instead of standard output, e.g. /var/lib/prometheus/node-exporter/xenvmc.prom"),
                    Socket,
                ]),
            new("routes", "routes [--json]",
                "XenVMC's routes and rules in this network namespace: the routes with protocol 86 (\"xenvmc\" in /etc/iproute2/rt_protos.d/xenvmc.conf) in every table (the peer routes live in table 86), IPv4 and IPv6, then the rules that lead our granted sources there (ip rule show proto xenvmc). --json lists the routes. Needs no daemon.",
                [Json]),
        ],
        Options = [Json, Socket],
        Description =
        [
            "Run it inside the guest (on a simulated host: under ip netns exec). It asks xenvmc-guest over its status socket (@xenvmc-guest, one per network namespace) and prints what the daemon does.",
        ],
        ExitCodes =
        [
            ("0", "success"),
            ("1", "no xenvmc-guest answers on the status socket (not running, or another network namespace)"),
            ("2", "wrong command line"),
            ("3", "status --check only: the daemon answers but is not registered in XenStore, or a peer in its table has no connected channel"),
            ("4", "a system call failed (routes: netlink)"),
        ],
        Files =
        [
            ("/lib/systemd/system/xenvmc-metrics.timer", "writes xenvmc metrics to /var/lib/prometheus/node-exporter/xenvmc.prom every 15 s once enabled (systemctl enable --now xenvmc-metrics.timer)"),
        ],
        SeeAlso = ["xenvmc-guest(1)", "xenvmc-dom0(1)", "xenvmc-guest.json(5)"],
    };

    public static CommandDoc? Command(string name) => Page.Commands.FirstOrDefault(c => c.Name == name);
}
