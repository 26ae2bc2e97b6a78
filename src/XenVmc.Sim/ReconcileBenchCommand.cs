using System.Diagnostics;
using System.Globalization;
using XenVmc.Platform.Hosting;
using XenVmc.Platform.Layout;
using XenVmc.XenStore;

namespace XenVmc.Sim;

/// <summary>
/// <c>xenvmc-sim reconcile-bench --socket PATH [--domains N] [--rounds R]</c>: how long Dom0's
/// reconcile takes at scale. Against a store with a running <c>xenvmc-dom0</c> (see
/// <c>netns-tests/bench-reconcile.sh</c>), writes N−1 guests on one bridge as the toolstack would
/// (each then marked ready as its daemon would), waits for every peer table, then in each round introduces guest N and times until all N
/// tables list all their peers, and destroys it again and times until the N−1 tables no longer
/// list it.
/// </summary>
/// <remarks>
/// The tables are read from the store itself (one directory listing per guest, all in flight at
/// once, every 5 ms), so the figure is what the guests would see, not what Dom0 logs.
/// </remarks>
internal static class ReconcileBenchCommand
{
    private const string Help = """
        usage: xenvmc-sim reconcile-bench --socket PATH [--domains N] [--rounds R]
          --socket PATH   a XenStore Dom0 socket with xenvmc-dom0 running against it
          --domains N     guests in the last step (default 100; N-1 stay, one comes and goes)
          --rounds R      introduce/destroy rounds (default 5)
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        var cl = CommandLine.Parse(args, ["--socket", "--domains", "--rounds"], []);
        string socket = cl.Get("--socket") ?? throw new UsageException("--socket PATH is required\n" + Help);
        int count = cl.GetInt("--domains", 100, 3, 250);
        int rounds = cl.GetInt("--rounds", 5, 1, 100);
        var inv = CultureInfo.InvariantCulture;
        await using var store = XenStoreClient.ConnectSocket(socket);
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        var ct = cts.Token;

        var clock = Stopwatch.StartNew();
        await Toolstack.WriteDom0Async(store, ct);
        for (int d = 1; d < count; d++)
        {
            await CreateReadyAsync(store, d, ct);
        }

        double written = clock.Elapsed.TotalSeconds;
        await WaitForTablesAsync(store, count - 1, ct);
        Console.WriteLine(string.Create(inv, $"{count - 1} guests written in {written:0.00} s; all {count - 1} peer tables complete after {clock.Elapsed.TotalSeconds:0.00} s"));

        var added = new List<double>();
        var removed = new List<double>();
        for (int round = 0; round < rounds; round++)
        {
            clock.Restart();
            await CreateReadyAsync(store, count, ct);
            await WaitForTablesAsync(store, count, ct);
            added.Add(clock.Elapsed.TotalMilliseconds);

            clock.Restart();
            await Toolstack.DestroyDomainAsync(store, count, ct);
            await WaitForTablesAsync(store, count - 1, ct);
            removed.Add(clock.Elapsed.TotalMilliseconds);
            Console.WriteLine(string.Create(inv, $"round {round + 1}: guest {count} introduced -> all {count} tables written in {added[^1]:0} ms; destroyed -> all {count - 1} tables updated in {removed[^1]:0} ms"));
        }

        Console.WriteLine(string.Create(inv, $"reconcile with {count} domains: introduce -> all tables written median {Median(added):0} ms (min {added.Min():0}, max {added.Max():0}); destroy -> tables updated median {Median(removed):0} ms"));
        for (int d = 1; d < count; d++)
        {
            await Toolstack.DestroyDomainAsync(store, d, ct);
        }

        return 0;
    }

    private static async Task CreateReadyAsync(XenStoreClient store, int domid, CancellationToken ct)
    {
        // Then the guest daemon's "ready", as soon as it can be written (creation clears the home).
        await Toolstack.CreateDomainAsync(store, Guest(domid), ct);
        await store.WriteAsync(XenVmcPaths.GuestState((uint)domid), XenVmcPaths.Ready, default, ct);
    }

    private static Toolstack.Guest Guest(int domid) =>
        new(domid, string.Create(CultureInfo.InvariantCulture, $"bench{domid}"), "xenbr0",
            string.Create(CultureInfo.InvariantCulture, $"00:16:3e:00:{domid >> 8:x2}:{domid & 0xff:x2}"),
            string.Create(CultureInfo.InvariantCulture, $"198.18.{domid >> 8}.{domid & 0xff}"),
            string.Create(CultureInfo.InvariantCulture, $"fd00:198:18::{domid:x}"),
            string.Create(CultureInfo.InvariantCulture, $"00000000-0000-4000-8000-{domid:x12}"));

    /// <summary>Until guests 1..<paramref name="guests"/> each have exactly the other guests in their table.</summary>
    private static async Task WaitForTablesAsync(XenStoreClient store, int guests, CancellationToken ct)
    {
        while (true)
        {
            var tables = await Task.WhenAll(Enumerable.Range(1, guests).Select(d => store.TryDirectoryAsync(XenVmcPaths.PeerTable((uint)d), default, ct)));
            if (tables.All(t => t.Count == guests - 1))
            {
                return;
            }

            await Task.Delay(5, ct);
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}
