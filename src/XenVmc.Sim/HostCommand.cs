using Microsoft.Extensions.Logging;
using XenVmc.Platform.Hosting;
using XenVmc.Platform.Simulated;
using XenVmc.XenStore;
using XenVmc.XenStore.Server;

namespace XenVmc.Sim;

/// <summary>
/// <c>xenvmc-sim host</c>: the simulated host's "hypervisor" process — the XenStore server and the
/// grant/event-channel broker. Domains get a hypervisor socket when Dom0 introduces them in
/// XenStore and lose it when they are released, exactly when xenstored gives or takes their ring.
/// </summary>
internal static class HostCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var cl = CommandLine.Parse(args, ["--run-dir"], ["--verbose"]);
        var paths = new SimPaths(cl.Get("--run-dir", SimPaths.DefaultRunDirectory));
        return await DaemonHost.RunAsync("xenvmc-sim host", paths.PidFile("host"), cl.Has("--verbose") ? LogLevel.Debug : LogLevel.Information, async (logger, ready, status, ct) =>
        {
            Directory.CreateDirectory(paths.StoreDirectory);
            await using var store = await StoreServer.StartAsync(
                new StoreOptions { SocketPath = paths.StoreSocket, DomainSocketDirectory = Path.GetDirectoryName(paths.DomainStoreSocket(0))! },
                logger);
            await using var hypervisor = new SimHypervisorServer(paths.HypervisorDirectory, SimPaths.SharedMemoryDirectory, logger);
            await using var client = XenStoreClient.ConnectSocket(paths.StoreSocket);
            await using var introduce = await client.WatchAsync("@introduceDomain", "host-introduce", ct);
            await using var release = await client.WatchAsync("@releaseDomain", "host-release", ct);
            ready($"store at {paths.StoreSocket}, hypervisor at {paths.HypervisorDirectory}");
            while (true)
            {
                await SyncDomainsAsync(client, hypervisor, ct);
                status($"{hypervisor.Domains.Count} domains");
                await Task.WhenAny(introduce.Events.WaitToReadAsync(ct).AsTask(), release.Events.WaitToReadAsync(ct).AsTask(), store.Completion);
                ct.ThrowIfCancellationRequested();
                if (store.Completion.IsCompleted)
                {
                    await store.Completion;
                    return;
                }

                while (introduce.Events.TryRead(out _) || release.Events.TryRead(out _))
                {
                }
            }
        });
    }

    /// <summary>Gives every introduced domain a hypervisor socket and takes it from released ones.</summary>
    private static async Task SyncDomainsAsync(XenStoreClient client, SimHypervisorServer hypervisor, CancellationToken ct)
    {
        var introduced = new HashSet<ushort>();
        var children = await client.TryDirectoryAsync("/local/domain", default, ct);

        foreach (string child in children)
        {
            if (ushort.TryParse(child, out ushort domid) && domid != 0 && await client.IsDomainIntroducedAsync(domid, ct))
            {
                introduced.Add(domid);
            }
        }

        foreach (ushort domid in hypervisor.Domains.Where(d => !introduced.Contains(d)))
        {
            hypervisor.RemoveDomain(domid);
        }

        foreach (ushort domid in introduced)
        {
            hypervisor.AddDomain(domid);
        }
    }
}
