using XenVmc.Linux;
using XenVmc.Platform.Simulated;
using XenVmc.Platform.Xen;

namespace XenVmc.Platform.Hosting;

/// <summary>Picks the platform a guest daemon runs on: Xen when /dev/xen is there, the simulated host only when asked.</summary>
public static class PlatformSelector
{
    public const string Usage = "--platform xen|sim  (sim needs --xenbus PATH and --hypervisor PATH)";

    /// <param name="eventChannels">
    /// <c>bind</c>, <c>poll</c> or <c>auto</c>: on Xen auto polls (see <see cref="PolledEventPort"/>
    /// for why a Linux guest that may be saved or migrated must not bind ports); the simulated
    /// host binds, its hypervisor has no such trap.
    /// </param>
    public static IXenPlatform Open(string platform, string? xenbus, string? hypervisor, string eventChannels = "auto")
    {
        switch (platform)
        {
            case "sim":
                if (xenbus is null || hypervisor is null)
                {
                    throw new UsageException("--platform sim needs --xenbus PATH (the domain's store socket) and --hypervisor PATH (its hypervisor socket)");
                }

                return new SimPlatform(xenbus, hypervisor) { PollEvents = eventChannels == "poll" };
            case "xen":
            case "auto" when Directory.Exists("/dev/xen"):
                try
                {
                    return new XenPlatform(bindEventChannels: eventChannels == "bind");
                }
                catch (LinuxException e)
                {
                    throw new UsageException($"the Xen platform needs /dev/xen/gntalloc and /dev/xen/gntdev (modules xen-gntalloc, xen-gntdev): {e.Message}");
                }

            case "auto":
                throw new UsageException("no /dev/xen here: this is not a Xen guest; use --platform sim on a simulated host");
            default:
                throw new UsageException($"--platform '{platform}': allowed xen, sim or auto");
        }
    }
}
