using Microsoft.Extensions.Logging;
using XenVmc.Platform.Hosting;
using XenVmc.Platform.Simulated;
using XenVmc.XenStore;
using XenVmc.XenStore.Server;

namespace XenVmc.Sim;

/// <summary>
/// <c>xenvmc-sim host</c>: the simulated machines' "hypervisor" process. It runs two hosts: this
/// one, where the guests live, and a remote one that guests migrate to. Each has its own XenStore
/// server and its own grant/event-channel broker. Domains get a hypervisor socket when Dom0
/// introduces them in XenStore and lose it when they are released, exactly when xenstored gives
/// or takes their ring.
/// </summary>
internal static class HostCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var cl = CommandLine.Parse(args, ["--run-dir", "--grant-limit"], ["--verbose"]);
        int grantLimit = cl.GetInt("--grant-limit", SimHypervisorServer.DefaultGrantLimit, 1, 1 << 20);
        var paths = new SimPaths(cl.Get("--run-dir", SimPaths.DefaultRunDirectory));
        return await DaemonHost.RunAsync("xenvmc-sim host", paths.PidFile("host"), cl.Has("--verbose") ? LogLevel.Debug : LogLevel.Information, async (logger, ready, status, ct) =>
        {
            var local = RunMachineAsync(paths, SimPaths.SharedMemoryDirectory, "local", grantLimit, logger, status, ct);
            var remote = RunMachineAsync(paths.Remote, SimPaths.RemoteSharedMemoryDirectory, "remote", grantLimit, logger, null, ct);
            await HostServices.WaitForAsync(() => File.Exists(paths.StoreSocket) && File.Exists(paths.Remote.StoreSocket) || local.IsCompleted || remote.IsCompleted, TimeSpan.FromSeconds(10), "the stores to listen");
            ready($"store at {paths.StoreSocket}, hypervisor at {paths.HypervisorDirectory}; remote host under {paths.Remote.Run}");
            await await Task.WhenAny(local, remote);
        });
    }

    /// <summary>One simulated machine: its store, its hypervisor, and the loop that keeps the two in step.</summary>
    private static async Task RunMachineAsync(SimPaths paths, string sharedMemory, string name, int grantLimit, ILogger logger, Action<string>? status, CancellationToken ct)
    {
        Directory.CreateDirectory(paths.StoreDirectory);
        await using var store = await StoreServer.StartAsync(
            new StoreOptions { SocketPath = paths.StoreSocket, DomainSocketDirectory = Path.GetDirectoryName(paths.DomainStoreSocket(0))! },
            logger);
        await using var hypervisor = new SimHypervisorServer(paths.HypervisorDirectory, sharedMemory, logger) { GrantLimit = grantLimit };
        await using var client = XenStoreClient.ConnectSocket(paths.StoreSocket);
        await using var introduce = await client.WatchAsync("@introduceDomain", "host-introduce", ct);
        await using var release = await client.WatchAsync("@releaseDomain", "host-release", ct);
        while (true)
        {
            await SyncDomainsAsync(client, hypervisor, ct);
            status?.Invoke($"{hypervisor.Domains.Count} domains on the {name} host");
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
