using System.Globalization;
using XenVmc.Platform.Hosting;
using XenVmc.XenStore;

namespace XenVmc.Sim;

/// <summary><c>xenvmc-sim status</c>: the simulated host's domains as XenStore and the namespaces see them.</summary>
internal static class StatusCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var cl = CommandLine.Parse(args, ["--run-dir"], []);
        var paths = new SimPaths(cl.Get("--run-dir", SimPaths.DefaultRunDirectory));
        var state = HostState.Load(paths);
        if (state is null || !File.Exists(paths.StoreSocket))
        {
            Console.WriteLine("no simulated host is up");
            return 1;
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await using var store = XenStoreClient.ConnectSocket(paths.StoreSocket);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"DOMID",-6} {"NAME",-10} {"BRIDGE",-8} {"IPV4",-12} {"STATE",-11} {"DAEMON",-7} {"PEERS",-12} BYPASS ROUTES"));
        foreach (var g in state.Guests)
        {
            if (g.Location != GuestLocation.Local)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{(g.Location == GuestLocation.Off ? "-" : g.Domid.ToString(CultureInfo.InvariantCulture)),-6} {g.Namespace,-10} {g.Bridge,-8} {g.Ipv4,-12} {(g.Location == GuestLocation.Off ? "off" : "migrated"),-11} {"-",-7} {"-",-12} -"));
                continue;
            }

            bool introduced = await store.IsDomainIntroducedAsync((uint)g.Domid, cts.Token);
            string daemon = await store.TryReadStringAsync($"/local/domain/{g.Domid}/data/xenvmc/state", default, cts.Token) ?? "-";
            var peers = await store.TryDirectoryAsync($"/local/domain/{g.Domid}/xenvmc/peers", default, cts.Token);

            string routes = string.Join(' ', HostServices.BypassRoutes(g.Namespace).Order());
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{g.Domid,-6} {g.Namespace,-10} {g.Bridge,-8} {g.Ipv4,-12} {(introduced ? "running" : "released"),-11} {daemon,-7} {(peers.Count == 0 ? "-" : string.Join(',', peers)),-12} {(routes.Length == 0 ? "-" : routes)}"));
        }

        return 0;
    }
}
