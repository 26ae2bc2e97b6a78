using XenVmc.XenStore;

namespace XenVmc.Platform.Simulated;

/// <summary>
/// The simulated host as seen from one guest: its own XenStore socket (the counterpart of
/// /dev/xen/xenbus) and its own hypervisor socket (grants and event channels).
/// </summary>
public sealed class SimPlatform : IXenPlatform
{
    private readonly string _xenbusPath;
    private readonly string _hypervisorPath;
    private SimHypervisorClient _hypervisor;

    public SimPlatform(string xenbusPath, string hypervisorPath)
    {
        _xenbusPath = xenbusPath;
        _hypervisorPath = hypervisorPath;
        _hypervisor = SimHypervisorClient.Connect(hypervisorPath);
    }

    public string Name => "simulated";

    public IGrantTable Grants => _hypervisor;

    /// <summary>Channels get no event channel and are polled, as on a Xen guest that may be saved or migrated.</summary>
    public bool PollEvents { get; init; }

    public IEventChannels Events => PollEvents ? PolledEventChannels.Instance : _hypervisor;

    public XenStoreClient OpenStore() => XenStoreClient.ConnectSocket(_xenbusPath);

    /// <summary>
    /// A migrated domain reaches the destination host's hypervisor through the same path (the
    /// simulated host repoints it), as a guest's /dev/xen devices reach whichever Xen it runs on.
    /// </summary>
    public void Resume()
    {
        var fresh = SimHypervisorClient.Connect(_hypervisorPath);
        var old = _hypervisor;
        _hypervisor = fresh;
        old.Dispose();
    }

    public void Dispose() => _hypervisor.Dispose();
}
