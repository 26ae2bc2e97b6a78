using XenVmc.Guest;
using XenVmc.Platform.Hosting;

namespace XenVmc.Cli;

/// <summary>
/// <c>xenvmc</c>: what the guest daemon is doing, for people (tables, a live view) and scripts
/// (<c>--json</c>, exit codes that mean one thing each).
/// </summary>
internal static class Cli
{
    public const int Ok = 0;
    public const int NotReachable = 1;
    public const int Usage = 2;
    public const int Degraded = 3;
    public const int SystemError = 4;

    public const string Help = """
        xenvmc — XenVMC status, peers, counters and routes (run inside the guest, or under
        `ip netns exec` on a simulated host).

        usage: xenvmc COMMAND [options]
          status    the daemon: domain, interface, peers, connected channels, totals
          peers     one line per peer: state, side, connected since, addresses
          stats     counters per peer and totals; --watch for a live view with rates
          routes    XenVMC's routes and rules here (ip route show table all proto xenvmc)
          --help    this text; `xenvmc COMMAND --help` for one command
          --version

        common options:
          --json            machine-readable output (snake_case keys)
          --socket NAME     the daemon's status socket (default @xenvmc-guest)

        exit codes (every command):
          0  success
          1  no xenvmc-guest answers on the status socket (not running, or another network namespace)
          2  wrong command line
          3  `status --check` only: the daemon answers but is not registered in XenStore, or a
             peer in its table has no connected channel
          4  a system call failed (routes: netlink)
        """;

    private static readonly Dictionary<string, string> CommandHelp = new(StringComparer.Ordinal)
    {
        ["status"] = """
            usage: xenvmc status [--json] [--check] [--socket NAME]
              The daemon: domain, platform, interface, sessions, then each peer and the totals.
              --json prints the daemon's whole snapshot.
              --check exits 3 when the daemon is not registered in XenStore or a peer in its
              table has no connected channel (yet), for health checks in scripts.
            """,
        ["peers"] = """
            usage: xenvmc peers [--json] [--socket NAME]
              One line per peer in the daemon's table: domid, channel state, side (who granted the
              pages), connected since, the addresses routed to it.
            """,
        ["stats"] = """
            usage: xenvmc stats [--json] [--watch [SECONDS]] [--count N] [--socket NAME]
              Packets, bytes and drops per peer, the totals over every link this daemon has had
              (closed ones included), and the TUN reader's counters.
              --watch [SECONDS]   redraw every SECONDS (default 1) with rates; Ctrl-C ends it
              --count N           with --watch: stop after N samples (for scripts)
              --json              one JSON object; with --watch one object per line per sample
            """,
        ["routes"] = """
            usage: xenvmc routes [--json]
              XenVMC's routes in this network namespace: the routes with protocol 86
              ("xenvmc" in /etc/iproute2/rt_protos.d/xenvmc.conf) in every table (the peer
              routes live in table 86), IPv4 and IPv6, then the rules that lead our granted
              sources there (the lines of ip rule show with proto xenvmc). --json lists the routes.
            """,
    };

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            var cl = CommandLine.Parse(args, ["--socket", "--count"], ["--json", "--help", "--version", "--watch", "--check"]);
            string[] positional = [.. cl.Positional];
            if (cl.Has("--version"))
            {
                stdout.WriteLine($"xenvmc {DaemonHost.Version}");
                return Ok;
            }

            if (positional.Length == 0)
            {
                (cl.Has("--help") ? stdout : stderr).WriteLine(Help);
                return cl.Has("--help") ? Ok : Usage;
            }

            string command = positional[0];
            if (!CommandHelp.TryGetValue(command, out string? help))
            {
                throw new UsageException($"unknown command '{command}'; try xenvmc --help");
            }

            if (cl.Has("--help"))
            {
                stdout.WriteLine(help);
                return Ok;
            }

            double? watch = null;
            string[] extra = positional[1..];
            if (cl.Has("--watch"))
            {
                if (command != "stats")
                {
                    throw new UsageException($"--watch is for stats, not {command}");
                }

                watch = 1;
                if (extra.Length > 0)
                {
                    if (!double.TryParse(extra[0], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double seconds) || seconds < 0.1 || seconds > 3600)
                    {
                        throw new UsageException($"--watch '{extra[0]}': allowed a number of seconds from 0.1 to 3600");
                    }

                    watch = seconds;
                    extra = extra[1..];
                }
            }

            if (extra.Length > 0)
            {
                throw new UsageException($"{command}: unexpected '{string.Join(' ', extra)}'; try xenvmc {command} --help");
            }

            if (cl.Has("--check") && command != "status")
            {
                throw new UsageException($"--check is for status, not {command}");
            }

            if (cl.Has("--count") && watch is null)
            {
                throw new UsageException("--count goes with --watch");
            }

            int? count = cl.Has("--count") ? cl.GetInt("--count", 1, 1, int.MaxValue) : null;
            string socket = cl.Get("--socket", GuestOptions.DefaultStatusSocket);
            bool json = cl.Has("--json");
            return command switch
            {
                "status" => Commands.Status(socket, json, cl.Has("--check"), stdout),
                "peers" => Commands.Peers(socket, json, stdout),
                "stats" when watch is { } interval => Commands.Watch(socket, json, TimeSpan.FromSeconds(interval), count, stdout),
                "stats" => Commands.Stats(socket, json, stdout),
                _ => Commands.Routes(json, stdout),
            };
        }
        catch (UsageException e)
        {
            stderr.WriteLine($"xenvmc: {e.Message}");
            return Usage;
        }
        catch (Linux.LinuxException e)
        {
            stderr.WriteLine($"xenvmc: {e.Message}");
            return SystemError;
        }
        catch (IOException e)
        {
            stderr.WriteLine($"xenvmc: {e.Message}");
            return NotReachable;
        }
    }
}
