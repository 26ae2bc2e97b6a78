using System.Globalization;
using XenVmc.XenStore;

namespace XenVmc.Sim;

/// <summary>
/// Writes what libxl writes into XenStore when it creates a domain with one PV vif, with
/// libxl's permissions (tools/libs/light/libxl_create.c, libxl_device.c, libxl_nic.c), and
/// introduces the domain to the store.
/// </summary>
internal static class Toolstack
{
    /// <param name="Networks">More entries for the vif's ip key (xl's ip= "list of IP networks"): prefixes routed behind the guest.</param>
    public sealed record Guest(int Domid, string Name, string Bridge, string Mac, string Ipv4, string Ipv6, string Uuid, string Networks = "");

    public static async Task WriteDom0Async(XenStoreClient store, CancellationToken ct)
    {
        await store.TransactAsync(async tx =>
        {
            await store.WriteAsync("/local/domain/0/name", "Domain-0", tx, ct);
            await store.WriteAsync("/local/domain/0/domid", "0", tx, ct);
            await store.MkdirAsync("/local/domain/0/backend/vif", tx, ct);
        }, ct);
    }

    public static async Task CreateDomainAsync(XenStoreClient store, Guest guest, CancellationToken ct)
    {
        string d = guest.Domid.ToString(CultureInfo.InvariantCulture);
        string home = "/local/domain/" + d;
        XsPermission[] readOnly = [new(XsAccess.None, 0), new(XsAccess.Read, (uint)guest.Domid)];
        XsPermission[] guestOwned = [new(XsAccess.None, (uint)guest.Domid)];
        string frontend = $"{home}/device/vif/0";
        string backend = $"/local/domain/0/backend/vif/{d}/0";
        XsPermission[] frontendPerms = [new(XsAccess.None, (uint)guest.Domid), new(XsAccess.Read, 0)];
        await store.TransactAsync(async tx =>
        {
            await store.RmAsync(home, tx, ct);
            await store.MkdirAsync(home, tx, ct);
            await store.SetPermissionsAsync(home, readOnly, tx, ct);
            await store.WriteAsync($"/vm/{guest.Uuid}/name", guest.Name, tx, ct);
            await Write(store, tx, $"{home}/vm", $"/vm/{guest.Uuid}", ct);
            await Write(store, tx, $"{home}/name", guest.Name, ct);
            await Write(store, tx, $"{home}/domid", d, ct);
            await Write(store, tx, $"{home}/memory/static-max", "262144", ct);
            await Write(store, tx, $"{home}/memory/target", "262144", ct);
            await Write(store, tx, $"{home}/cpu/0/availability", "online", ct);
            await Write(store, tx, $"{home}/store/port", "1", ct);
            await Write(store, tx, $"{home}/store/ring-ref", "1", ct);
            foreach (string owned in new[] { "data", "drivers", "feature", "attr", "error", "control/shutdown", "control/feature-poweroff", "control/feature-reboot", "control/feature-suspend", "control/sysrq" })
            {
                await store.MkdirAsync($"{home}/{owned}", tx, ct);
                await store.SetPermissionsAsync($"{home}/{owned}", guestOwned, tx, ct);
            }

            // Frontend: owned by the guest, readable by the backend (Dom0).
            await store.MkdirAsync(frontend, tx, ct);
            await store.SetPermissionsAsync(frontend, frontendPerms, tx, ct);
            await Write(store, tx, $"{frontend}/backend", backend, ct);
            await Write(store, tx, $"{frontend}/backend-id", "0", ct);
            await Write(store, tx, $"{frontend}/handle", "0", ct);
            await Write(store, tx, $"{frontend}/mac", guest.Mac, ct);
            await Write(store, tx, $"{frontend}/state", "4", ct);

            // Backend: owned by Dom0, readable by the guest. ip= is what XenVMC routes by.
            await store.MkdirAsync(backend, tx, ct);
            await store.SetPermissionsAsync(backend, readOnly, tx, ct);
            await Write(store, tx, $"{backend}/frontend", frontend, ct);
            await Write(store, tx, $"{backend}/frontend-id", d, ct);
            await Write(store, tx, $"{backend}/online", "1", ct);
            await Write(store, tx, $"{backend}/state", "4", ct);
            await Write(store, tx, $"{backend}/script", "/etc/xen/scripts/vif-bridge", ct);
            await Write(store, tx, $"{backend}/mac", guest.Mac, ct);
            await Write(store, tx, $"{backend}/ip", $"{guest.Ipv4} {guest.Ipv6} {guest.Networks}".TrimEnd(), ct);
            await Write(store, tx, $"{backend}/bridge", guest.Bridge, ct);
            await Write(store, tx, $"{backend}/handle", "0", ct);
            await Write(store, tx, $"{backend}/type", "vif", ct);
            await Write(store, tx, $"{backend}/vifname", $"vif{d}.0", ct);
            await Write(store, tx, $"{backend}/hotplug-status", "connected", ct);
        }, ct);

        await store.IntroduceAsync((uint)guest.Domid, 0x100000UL + (ulong)guest.Domid, 1, ct);
    }

    public static async Task DestroyDomainAsync(XenStoreClient store, int domid, CancellationToken ct)
    {
        string d = domid.ToString(CultureInfo.InvariantCulture);
        if (await store.IsDomainIntroducedAsync((uint)domid, ct))
        {
            await store.ReleaseAsync((uint)domid, ct);
        }

        await store.TransactAsync(async tx =>
        {
            await store.RmAsync($"/local/domain/0/backend/vif/{d}", tx, ct);
            await store.RmAsync($"/local/domain/{d}", tx, ct);
        }, ct);
    }

    private static Task Write(XenStoreClient store, XsTransaction tx, string path, string value, CancellationToken ct) =>
        store.WriteAsync(path, value, tx, ct);
}
