using Microsoft.Extensions.Logging;
using XenVmc.Platform.Hosting;
using XenVmc.XenStore.Server;

namespace XenVmc.Sim;

/// <summary>
/// <c>xenvmc-sim store</c>: only the simulated xenstored, in the foreground until SIGINT or SIGTERM.
/// The real xenstore tools work against it with <c>XENSTORED_PATH=PATH</c>.
/// </summary>
internal static class StoreCommand
{
    private const string Help = """
        usage: xenvmc-sim store --socket PATH [--domains DIR] [--verbose]
          --socket PATH   the Dom0 socket (point XENSTORED_PATH at it)
          --domains DIR   where domain N's socket DIR/N appears on XS_INTRODUCE
                          (default: a "domains" directory beside PATH)
          --verbose       log every connection
        runs until SIGINT/SIGTERM and removes its sockets when it stops
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        CommandLine cl;
        try
        {
            cl = CommandLine.Parse(args, ["--socket", "--domains"], ["--help", "--verbose"]);
            if (cl.Has("--help"))
            {
                Console.WriteLine(Help);
                return 0;
            }

            if (cl.Positional.Count > 0)
            {
                throw new UsageException($"unexpected argument '{cl.Positional[0]}'");
            }

            if (string.IsNullOrEmpty(cl.Get("--socket")))
            {
                throw new UsageException("--socket PATH is required");
            }
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"xenvmc-sim store: {e.Message}");
            Console.Error.WriteLine(Help);
            return 2;
        }

        var options = new StoreOptions { SocketPath = cl.Get("--socket")! };
        if (cl.Get("--domains") is string domains)
        {
            options = options with { DomainSocketDirectory = domains };
        }

        LogLevel level = cl.Has("--verbose") ? LogLevel.Debug : LogLevel.Information;
        return await DaemonHost.RunAsync("xenvmc-sim store", pidFile: null, level, async (logger, ready, status, ct) =>
        {
            await using StoreServer server = await StoreServer.StartAsync(options, logger);
            ready($"XenStore at {options.SocketPath}, domain sockets in {options.DomainSocketDirectory}");
            var stopped = new TaskCompletionSource();
            await using (ct.Register(() => stopped.TrySetResult()))
            {
                await Task.WhenAny(stopped.Task, server.Completion);
            }

            if (server.Completion.IsFaulted)
            {
                await server.Completion;
            }
        });
    }
}
