using System.Globalization;
using Microsoft.Extensions.Logging;
using XenVmc.Guest;
using XenVmc.Platform.Simulated;
using XenVmc.XenStore;
using XenVmc.XenStore.Server;

namespace XenVmc.Tests.Support;

/// <summary>
/// A simulated host in a temp directory: an in-process XenStore server, a simulated hypervisor
/// (its shared-memory files in the temp directory too), a Dom0 store connection, and helpers
/// that create domains the way libxl does. Everything it hands out is closed on dispose.
/// </summary>
internal sealed class SimHost : IAsyncDisposable
{
    private readonly List<object> _owned = [];

    private SimHost(TempDirectory directory, StoreServer store, StoreOptions options, SimHypervisorServer hypervisor, XenStoreClient dom0, CapturingLogger logger)
    {
        Directory = directory;
        Store = store;
        StoreOptions = options;
        Hypervisor = hypervisor;
        Dom0 = dom0;
        Logger = logger;
    }

    public TempDirectory Directory { get; }

    public StoreServer Store { get; }

    public StoreOptions StoreOptions { get; }

    public SimHypervisorServer Hypervisor { get; }

    public XenStoreClient Dom0 { get; }

    public CapturingLogger Logger { get; }

    public string SharedMemoryDirectory => Hypervisor.SharedMemoryDirectory;

    public static async Task<SimHost> StartAsync()
    {
        var directory = new TempDirectory();
        var logger = new CapturingLogger();
        var options = new StoreOptions { SocketPath = directory.Combine("xs", "socket"), DomainSocketDirectory = directory.Combine("xs", "domains") };
        var store = await StoreServer.StartAsync(options, logger);
        var hypervisor = new SimHypervisorServer(directory.Combine("hv"), directory.Combine("shm"), logger);
        var dom0 = XenStoreClient.ConnectSocket(options.SocketPath);
        return new SimHost(directory, store, options, hypervisor, dom0, logger);
    }

    public string StoreSocket(ushort domid) => Path.Combine(StoreOptions.DomainSocketDirectory, domid.ToString(CultureInfo.InvariantCulture));

    public string HypervisorSocket(ushort domid) => SimHypervisorServer.SocketPath(Hypervisor.SocketDirectory, domid);

    /// <summary>
    /// What libxl writes for a new domain (tools/libs/light/libxl_create.c): a home owned by Dom0
    /// and readable by the domain, <c>domid</c>, and <c>data</c> owned by the domain; then the
    /// domain is introduced to the store and gets its hypervisor socket.
    /// </summary>
    public async Task CreateDomainAsync(ushort domid, CancellationToken ct)
    {
        string home = "/local/domain/" + domid.ToString(CultureInfo.InvariantCulture);
        await Dom0.TransactAsync(async tx =>
        {
            await Dom0.MkdirAsync(home, tx, ct);
            await Dom0.SetPermissionsAsync(home, [new(XsAccess.None, 0), new(XsAccess.Read, domid)], tx, ct);
            await Dom0.WriteAsync(home + "/domid", domid.ToString(CultureInfo.InvariantCulture), tx, ct);
            await Dom0.MkdirAsync(home + "/data", tx, ct);
            await Dom0.SetPermissionsAsync(home + "/data", [new(XsAccess.None, domid)], tx, ct);
        }, ct);
        await Dom0.IntroduceAsync(domid, 0x100000UL + domid, 1, ct);
        Hypervisor.AddDomain(domid);
    }

    /// <summary>The vif backend node libxl writes for a guest's vif (libxl_nic.c): owned by Dom0, readable by the guest.</summary>
    public async Task WriteVifAsync(ushort domid, int devid, string bridge, string? ip, string mac, bool online, CancellationToken ct)
    {
        string backend = $"/local/domain/0/backend/vif/{domid}/{devid}";
        await Dom0.TransactAsync(async tx =>
        {
            await Dom0.MkdirAsync(backend, tx, ct);
            await Dom0.SetPermissionsAsync(backend, [new(XsAccess.None, 0), new(XsAccess.Read, domid)], tx, ct);
            await Dom0.WriteAsync(backend + "/frontend-id", domid.ToString(CultureInfo.InvariantCulture), tx, ct);
            await Dom0.WriteAsync(backend + "/bridge", bridge, tx, ct);
            await Dom0.WriteAsync(backend + "/mac", mac, tx, ct);
            await Dom0.WriteAsync(backend + "/online", online ? "1" : "0", tx, ct);
            if (ip is not null)
            {
                await Dom0.WriteAsync(backend + "/ip", ip, tx, ct);
            }
        }, ct);
    }

    /// <summary>A store connection as domain <paramref name="domid"/> (through its own socket).</summary>
    public XenStoreClient DomainStore(ushort domid) => Own(XenStoreClient.ConnectSocket(StoreSocket(domid)));

    public SimPlatform Platform(ushort domid) => Own(new SimPlatform(StoreSocket(domid), HypervisorSocket(domid)));

    public SimHypervisorClient HypervisorClient(ushort domid) => Own(SimHypervisorClient.Connect(HypervisorSocket(domid)));

    /// <summary>A guest daemon's context for <paramref name="domid"/> on the simulated platform, default options (and the real resume clock unless given one).</summary>
    public GuestContext Guest(ushort domid, Linux.ResumeEpoch? resume = null, bool pollEvents = false)
    {
        var platform = Own(new SimPlatform(StoreSocket(domid), HypervisorSocket(domid)) { PollEvents = pollEvents });
        var store = Own(platform.OpenStore());
        return new GuestContext(domid, store, platform, new GuestOptions(), new GuestLog(Logger), resume ?? new Linux.ResumeEpoch());
    }

    public T Own<T>(T resource)
        where T : class
    {
        lock (_owned)
        {
            _owned.Add(resource);
        }

        return resource;
    }

    public async ValueTask DisposeAsync()
    {
        object[] owned;
        lock (_owned)
        {
            owned = [.. _owned];
            _owned.Clear();
        }

        for (int i = owned.Length - 1; i >= 0; i--)
        {
            switch (owned[i])
            {
                case IAsyncDisposable asyncDisposable:
                    await asyncDisposable.DisposeAsync();
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }
        }

        await Dom0.DisposeAsync();
        await Store.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        await Hypervisor.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Directory.Dispose();
    }
}
