using XenVmc.Platform.Layout;
using XenVmc.XenStore;

namespace XenVmc.Guest;

public sealed partial class GuestDaemon
{
    /// <summary>The daemon stops: take our nodes out of the store so peers stop offering.</summary>
    private static async Task WithdrawAsync(GuestContext context)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await context.RemoveAsync(XenVmcPaths.GuestState(context.Domid), default, timeout.Token).ConfigureAwait(false);
            await context.RemoveAsync(XenVmcPaths.Channels(context.Domid), default, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is XenStoreException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // Without a store there is nobody to tell.
        }
    }

    /// <summary>
    /// Packets from a peer arrive on the TUN with the peer's eth0 address as source; strict
    /// reverse-path filtering would drop them until our own route to that peer exists, so it is
    /// loosened on the TUN. The TUN needs no IPv6 link-local address: without one the kernel
    /// sends no router or neighbour solicitations into it.
    /// </summary>
    private static void ConfigureSysctls(string name)
    {
        foreach (var (path, value) in new[] { ($"/proc/sys/net/ipv4/conf/{name}/rp_filter", "2"), ($"/proc/sys/net/ipv6/conf/{name}/addr_gen_mode", "1") })
        {
            try
            {
                File.WriteAllText(path, value);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A read-only /proc/sys (a sandbox) leaves the defaults; the bypass still works.
            }
        }
    }
}
