using XenVmc.XenStore;

namespace XenVmc.Platform;

/// <summary>
/// What a guest daemon needs from the machine it runs on: a XenStore connection as this domain,
/// grant tables and event channels. Implemented for Xen (the /dev/xen devices) and for the
/// simulated host (network namespaces as guests).
/// </summary>
public interface IXenPlatform : IDisposable
{
    string Name { get; }

    /// <exception cref="XenStoreConnectionException">The store cannot be reached (yet).</exception>
    XenStoreClient OpenStore();

    IGrantTable Grants { get; }

    IEventChannels Events { get; }

    /// <summary>
    /// The domain was suspended and resumed, possibly on another host (migration): reopen whatever
    /// the hypervisor closed. Called with no grant or port of ours in use. On Xen the device files
    /// survive a migration, so there is nothing to do.
    /// </summary>
    void Resume()
    {
    }
}
