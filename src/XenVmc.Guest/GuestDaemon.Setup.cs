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
        catch (Exception e) when (e is OperationCanceledException || XenStoreFailure.Is(e))
        {
            // Without a store there is nobody to tell.
        }
    }

    /// <summary>
    /// Packets from a peer arrive on the TUN with the peer's eth0 address as source. The TUN has
    /// no IPv4 address, and on such a device the kernel's reverse-path filter, strict or loose,
    /// drops every packet whose source is not routed back through the same device: packets a peer
    /// sends in the moments when its route is already on its TUN and ours still on eth0 (a
    /// channel coming up), or that we drain from a closing channel after our route went. So the
    /// filter is off on the TUN; the daemon itself accepts from a peer only the addresses Dom0's
    /// table gives it. The kernel applies the larger of <c>all</c> and the device's value, so a
    /// non-zero <c>net.ipv4.conf.all.rp_filter</c> still filters: that is logged. The TUN needs no
    /// IPv6 link-local address: without one the kernel sends no router or neighbour solicitations
    /// into it.
    /// </summary>
    private static void ConfigureSysctls(string name, GuestLog log)
    {
        foreach (var (path, value) in new[] { ($"/proc/sys/net/ipv4/conf/{name}/rp_filter", "0"), ($"/proc/sys/net/ipv6/conf/{name}/addr_gen_mode", "1") })
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

        string all = ReadSysctl("/proc/sys/net/ipv4/conf/all/rp_filter");
        if (all is not ("0" or ""))
        {
            log.ReversePathFilterOn(name, all);
        }
    }

    private static string ReadSysctl(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }
}
