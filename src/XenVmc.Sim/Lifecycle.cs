using System.Globalization;
using XenVmc.Platform.Layout;
using XenVmc.XenStore;

namespace XenVmc.Sim;

/// <summary>
/// What a toolstack does to a running domain, on the simulated hosts: migrate it to the other
/// host and back, shut it down, destroy it, start it again. The guest's namespace (its kernel
/// and network) stays; its domain — XenStore nodes, store connection, grants, event channels —
/// is what comes and goes, under a new domain id each time, as with xl.
/// </summary>
internal static class Lifecycle
{
    /// <summary>How long a suspending guest gets to take its channels down before the domain moves.</summary>
    private static readonly TimeSpan SuspendGrace = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static SimPaths HostOf(SimPaths paths, GuestLocation location) => location == GuestLocation.Remote ? paths.Remote : paths;

    /// <summary>
    /// Points the guest's stable device links at its domain's sockets once they exist (a created
    /// domain gets them when it is introduced). The link is replaced atomically.
    /// </summary>
    public static async Task AttachDevicesAsync(SimPaths paths, GuestState guest)
    {
        var host = HostOf(paths, guest.Location);
        await HostServices.WaitForAsync(() => File.Exists(host.DomainStoreSocket(guest.Domid)) && File.Exists(host.HypervisorSocket(guest.Domid)), TimeSpan.FromSeconds(10), $"domain {guest.Domid}'s sockets");
        Directory.CreateDirectory(paths.GuestDevices(guest.Namespace));
        Relink(paths.GuestXenbus(guest.Namespace), host.DomainStoreSocket(guest.Domid));
        Relink(paths.GuestHypervisor(guest.Namespace), host.HypervisorSocket(guest.Domid));
    }

    private static void Relink(string link, string target)
    {
        string temporary = link + ".new";
        File.Delete(temporary);
        File.CreateSymbolicLink(temporary, target);
        File.Move(temporary, link, overwrite: true);
    }

    /// <summary>
    /// Live migration as the two hosts see it: the source asks the guest to suspend, the
    /// destination creates the domain under its own new id, the guest resumes there (its device
    /// links now reach the destination), and the source releases and destroys the old domain.
    /// </summary>
    public static async Task<HostState> MigrateAsync(SimPaths paths, HostState state, GuestState guest, GuestLocation to)
    {
        var from = guest.Location;
        if (from == GuestLocation.Off || from == to)
        {
            throw new XenVmc.Platform.Hosting.UsageException($"guest {guest.Index} is {from.ToString().ToLowerInvariant()}; it can migrate only from the other host");
        }

        using var cts = new CancellationTokenSource(Timeout);
        await using var source = XenStoreClient.ConnectSocket(HostOf(paths, from).StoreSocket);
        await using var destination = XenStoreClient.ConnectSocket(HostOf(paths, to).StoreSocket);
        await RequestShutdownAsync(source, guest.Domid, "suspend", cts.Token);
        await WaitForGuestToSettleAsync(source, guest.Domid, cts.Token);

        (state, int domid) = state.AllocateDomid();
        var moved = guest with { Domid = domid, Location = to };
        await Toolstack.CreateDomainAsync(destination, moved.ToToolstack(), cts.Token);
        await AttachDevicesAsync(paths, moved);
        await Toolstack.DestroyDomainAsync(source, guest.Domid, cts.Token);
        state = state.WithGuest(moved);
        state.Save(paths);
        return state;
    }

    /// <summary>
    /// <c>xl shutdown</c>: the toolstack asks for poweroff, the guest's init stops its services
    /// (SIGTERM: our daemon withdraws cleanly), the guest halts, and the domain is destroyed.
    /// </summary>
    public static async Task<HostState> ShutdownAsync(SimPaths paths, HostState state, GuestState guest)
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var store = XenStoreClient.ConnectSocket(HostOf(paths, RequireRunning(guest)).StoreSocket);
        await RequestShutdownAsync(store, guest.Domid, "poweroff", cts.Token);
        if (HostServices.PidFromFile(paths.PidFile(guest.Namespace)) is int pid)
        {
            await HostServices.StopAsync([pid]);
        }

        return await PowerOffAsync(paths, state, guest, store, cts.Token);
    }

    /// <summary><c>xl destroy</c>: the domain stops at once; nothing in it gets to say goodbye.</summary>
    public static async Task<HostState> DestroyAsync(SimPaths paths, HostState state, GuestState guest)
    {
        using var cts = new CancellationTokenSource(Timeout);
        await using var store = XenStoreClient.ConnectSocket(HostOf(paths, RequireRunning(guest)).StoreSocket);
        if (HostServices.PidFromFile(paths.PidFile(guest.Namespace)) is int pid)
        {
            HostServices.Kill(pid);
        }

        return await PowerOffAsync(paths, state, guest, store, cts.Token);
    }

    /// <summary><c>xl create</c> of a guest that is off: a new domain id on this host, its network up, its daemon started.</summary>
    public static async Task<HostState> StartAsync(SimPaths paths, HostState state, GuestState guest, string bin)
    {
        if (guest.Location != GuestLocation.Off)
        {
            throw new XenVmc.Platform.Hosting.UsageException($"guest {guest.Index} is running (domain {guest.Domid})");
        }

        using var cts = new CancellationTokenSource(Timeout);
        await using var store = XenStoreClient.ConnectSocket(paths.StoreSocket);
        (state, int domid) = state.AllocateDomid();
        var started = guest with { Domid = domid, Location = GuestLocation.Local };
        await Toolstack.CreateDomainAsync(store, started.ToToolstack(), cts.Token);
        await AttachDevicesAsync(paths, started);
        Shell.Run("ip", "-n", guest.Namespace, "link", "set", "eth0", "up");
        state = state.WithGuest(started);
        state.Save(paths);
        if (state.Bypass)
        {
            HostServices.StartGuestDaemon(paths, bin, started);
        }

        return state;
    }

    private static GuestLocation RequireRunning(GuestState guest) =>
        guest.Location != GuestLocation.Off ? guest.Location : throw new XenVmc.Platform.Hosting.UsageException($"guest {guest.Index} is not running");

    private static async Task<HostState> PowerOffAsync(SimPaths paths, HostState state, GuestState guest, XenStoreClient store, CancellationToken ct)
    {
        // A halted guest's network is gone with it; its namespace waits for `start`.
        Shell.Run("ip", "-n", guest.Namespace, "link", "set", "eth0", "down");
        await Toolstack.DestroyDomainAsync(store, guest.Domid, ct);
        foreach (string link in new[] { paths.GuestXenbus(guest.Namespace), paths.GuestHypervisor(guest.Namespace) })
        {
            File.Delete(link);
        }

        state = state.WithGuest(guest with { Location = GuestLocation.Off });
        state.Save(paths);
        return state;
    }

    private static Task RequestShutdownAsync(XenStoreClient store, int domid, string request, CancellationToken ct) =>
        store.WriteAsync(XenVmcPaths.ShutdownRequest((uint)domid), request, default, ct);

    /// <summary>
    /// The guest kernel would acknowledge the request and freeze; here its daemon gets a moment
    /// to take its channels down (it says so with state "suspended"). A guest that does not
    /// answer is moved anyway, as a real migration would.
    /// </summary>
    private static async Task WaitForGuestToSettleAsync(XenStoreClient store, int domid, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + SuspendGrace;
        while (DateTime.UtcNow < deadline)
        {
            string? daemon = await store.TryReadStringAsync(XenVmcPaths.GuestState((uint)domid), default, ct);
            if (daemon != XenVmcPaths.Ready)
            {
                return;
            }

            await Task.Delay(20, ct);
        }
    }

    public static string Describe(GuestState g) => g.Location switch
    {
        GuestLocation.Local => string.Create(CultureInfo.InvariantCulture, $"domain {g.Domid} on this host"),
        GuestLocation.Remote => string.Create(CultureInfo.InvariantCulture, $"domain {g.Domid} on the remote host"),
        _ => "off",
    };
}
