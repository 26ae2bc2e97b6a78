using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using XenVmc.Platform.Hosting;
using XenVmc.XenStore;

namespace XenVmc.Sim;

/// <summary>
/// <c>xenvmc-sim store-bench</c>: XenStore round trips and a watch storm against a running store,
/// so the cost of the store (ours or a real xenstored) can be compared on one machine.
/// </summary>
internal static class StoreBenchCommand
{
    private const string Root = "/bench/xenvmc";

    private const string Help = """
        usage: xenvmc-sim store-bench --socket PATH [--round-trips N] [--events N] [--pipeline N]
          --socket PATH      a XenStore Dom0 socket
          --round-trips N    sequential write+read pairs (default 10000)
          --events N         watch events in the storm (default 1000)
          --pipeline N       requests in flight for the pipelined pass (default 64)
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        CommandLine cl;
        int roundTrips, events, pipeline;
        try
        {
            cl = CommandLine.Parse(args, ["--socket", "--round-trips", "--events", "--pipeline"], ["--help"]);
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

            roundTrips = cl.GetInt("--round-trips", 10_000, 1, 10_000_000);
            events = cl.GetInt("--events", 1_000, 1, 1_000_000);
            pipeline = cl.GetInt("--pipeline", 64, 1, 10_000);
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"xenvmc-sim store-bench: {e.Message}");
            Console.Error.WriteLine(Help);
            return 2;
        }

        string socket = cl.Get("--socket")!;
        await using var client = XenStoreClient.ConnectSocket(socket);
        await client.MkdirAsync(Root);
        await client.RmAsync(Root);
        try
        {
            await RoundTripsAsync(client, roundTrips);
            await PipelinedAsync(client, roundTrips, pipeline);
            await using var watcher = XenStoreClient.ConnectSocket(socket);
            await WatchStormAsync(client, watcher, events);
        }
        finally
        {
            await client.RmAsync(Root);
        }

        return 0;
    }

    /// <summary>Write then read back, one pair at a time: the latency a daemon sees.</summary>
    private static async Task RoundTripsAsync(XenStoreClient client, int count)
    {
        // Warm up the JIT and the connection so the first figures are not start-up costs.
        for (int i = 0; i < 200; i++)
        {
            await client.WriteAsync($"{Root}/warm", "x");
            await client.ReadAsync($"{Root}/warm");
        }

        var latencies = new double[count];
        var total = Stopwatch.StartNew();
        for (int i = 0; i < count; i++)
        {
            string path = $"{Root}/rt/{i % 100}";
            string value = i.ToString(CultureInfo.InvariantCulture);
            long start = Stopwatch.GetTimestamp();
            await client.WriteAsync(path, value);
            string back = await client.ReadStringAsync(path);
            latencies[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            if (back != value)
            {
                throw new IOException($"read back '{back}' from {path}, wrote '{value}'");
            }
        }

        total.Stop();
        Report($"write+read round trips: {count}", 2.0 * count / total.Elapsed.TotalSeconds, "ops/s", latencies, "round trip");
    }

    /// <summary>The same pairs with many in flight: what pipelining on one connection buys.</summary>
    private static async Task PipelinedAsync(XenStoreClient client, int count, int inFlight)
    {
        var latencies = new double[count];
        int next = -1;
        var total = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, inFlight).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                string path = $"{Root}/pl/{i % 1000}";
                long start = Stopwatch.GetTimestamp();
                await client.WriteAsync(path, "v");
                await client.ReadAsync(path);
                latencies[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            }
        }));
        total.Stop();
        Report($"pipelined write+read pairs: {count}, {inFlight} in flight", 2.0 * count / total.Elapsed.TotalSeconds, "ops/s", latencies, "pair");
    }

    /// <summary>
    /// One writer creates <paramref name="count"/> nodes as fast as it can, one watcher on their parent
    /// counts events until the last one arrives; latency is from sending a write to its event.
    /// </summary>
    private static async Task WatchStormAsync(XenStoreClient writer, XenStoreClient watcher, int count)
    {
        string parent = $"{Root}/storm";
        await writer.MkdirAsync(parent);
        await using XsWatch watch = await watcher.WatchAsync(parent, "storm");
        string registration = await watch.Events.ReadAsync();
        if (registration != parent)
        {
            throw new IOException($"first event was {registration}, expected {parent}");
        }

        var sent = new ConcurrentDictionary<string, long>();
        var latencies = new List<double>(count);
        var clock = Stopwatch.StartNew();
        Task receiver = Task.Run(async () =>
        {
            while (latencies.Count < count)
            {
                string path = await watch.Events.ReadAsync();
                long now = Stopwatch.GetTimestamp();
                if (sent.TryGetValue(path, out long at))
                {
                    latencies.Add(Stopwatch.GetElapsedTime(at, now).TotalMicroseconds);
                }
            }
        });

        var writes = new Task[count];
        for (int i = 0; i < count; i++)
        {
            string path = $"{parent}/{i}";
            sent[path] = Stopwatch.GetTimestamp();
            writes[i] = writer.WriteAsync(path, "e");
        }

        await Task.WhenAll(writes);
        if (await Task.WhenAny(receiver, Task.Delay(TimeSpan.FromSeconds(60))) != receiver)
        {
            throw new TimeoutException($"only {latencies.Count} of {count} watch events arrived within 60 s");
        }

        await receiver;
        clock.Stop();
        Report($"watch storm: {count} events, one writer, one watcher", count / clock.Elapsed.TotalSeconds, "events/s", [.. latencies], "write→event");
    }

    private static void Report(string title, double rate, string unit, double[] latenciesUs, string what)
    {
        Array.Sort(latenciesUs);
        Console.WriteLine(title);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {rate,12:F0} {unit}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {what} latency p50 {Percentile(latenciesUs, 0.50),8:F1} us   p99 {Percentile(latenciesUs, 0.99),8:F1} us"));
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}
