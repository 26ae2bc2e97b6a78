using XenVmc.Guest;
using XenVmc.Platform.Hosting;
using XenVmc.Platform.Hosting.Manual;

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

    public static string Help => HelpText.Render(CliManual.Page);

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            var cl = CommandLine.Parse(args, ["--socket", "--count", "--man", "--output"], ["--json", "--help", "--version", "--watch", "--check"]);
            string[] positional = [.. cl.Positional];
            if (cl.Has("--version"))
            {
                stdout.WriteLine($"xenvmc {DaemonHost.Version}");
                return Ok;
            }

            // Hidden: the build writes xenvmc(1) with it (packaging/build-deb.sh).
            if (cl.Get("--man") is { } section)
            {
                stdout.Write(section == "1" ? ManPage.Program(CliManual.Page, DaemonHost.Version) : throw new UsageException($"--man {section}: allowed 1"));
                return Ok;
            }

            if (positional.Length == 0)
            {
                (cl.Has("--help") ? stdout : stderr).WriteLine(Help);
                return cl.Has("--help") ? Ok : Usage;
            }

            string command = positional[0];
            if (CliManual.Command(command) is not { } doc)
            {
                throw new UsageException($"unknown command '{command}'; try xenvmc --help");
            }

            if (cl.Has("--help"))
            {
                stdout.WriteLine(HelpText.Render(CliManual.Page, doc));
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

            if (cl.Has("--output") && command != "metrics")
            {
                throw new UsageException($"--output is for metrics, not {command}");
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
                "metrics" => Commands.Metrics(socket, cl.Get("--output"), stdout),
                _ => Commands.Routes(json, stdout),
            };
        }
        catch (UsageException e)
        {
            stderr.WriteLine($"xenvmc: {e.Message}");
            return Usage;
        }
        catch (Exception e) when (e is Linux.LinuxException or OutputException)
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
