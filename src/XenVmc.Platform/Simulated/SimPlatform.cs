using XenVmc.XenStore;

namespace XenVmc.Platform.Simulated;

/// <summary>
/// The simulated host as seen from one guest: its own XenStore socket (the counterpart of
/// /dev/xen/xenbus) and its own hypervisor socket (grants and event channels).
/// </summary>
public sealed class SimPlatform : IXenPlatform
{
    private readonly string _xenbusPath;
    private readonly SimHypervisorClient _hypervisor;

    public SimPlatform(string xenbusPath, string hypervisorPath)
    {
        _xenbusPath = xenbusPath;
        _hypervisor = SimHypervisorClient.Connect(hypervisorPath);
    }

    public string Name => "simulated";

    public IGrantTable Grants => _hypervisor;

    public IEventChannels Events => _hypervisor;

    public XenStoreClient OpenStore() => XenStoreClient.ConnectSocket(_xenbusPath);

    public void Dispose() => _hypervisor.Dispose();
}
