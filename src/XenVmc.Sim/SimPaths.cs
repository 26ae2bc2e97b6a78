using System.Globalization;

namespace XenVmc.Sim;

/// <summary>
/// Where the simulated host keeps its state. Sockets are filesystem sockets, so every network
/// namespace (every simulated guest) reaches them; granted pages live under /dev/shm.
/// </summary>
internal sealed class SimPaths(string runDirectory)
{
    public const string DefaultRunDirectory = "/run/xenvmc-sim";
    public const string SharedMemoryDirectory = "/dev/shm/xenvmc-sim";
    public const string Dom0Namespace = "xvmc-dom0";
    public const string NamespacePrefix = "xvmc-";

    public string Run { get; } = runDirectory;

    public string StoreDirectory => Path.Combine(Run, "xenstored");

    /// <summary>Dom0's xenstored socket: what XENSTORED_PATH points the xenstore-* tools at.</summary>
    public string StoreSocket => Path.Combine(StoreDirectory, "socket");

    /// <summary>Domain N's store connection, its /dev/xen/xenbus (created by XS_INTRODUCE).</summary>
    public string DomainStoreSocket(int domid) => Path.Combine(StoreDirectory, "domains", domid.ToString(CultureInfo.InvariantCulture));

    public string HypervisorDirectory => Path.Combine(Run, "hypervisor");

    public string HypervisorSocket(int domid) => Path.Combine(HypervisorDirectory, domid.ToString(CultureInfo.InvariantCulture));

    public string Logs => Path.Combine(Run, "logs");

    public string Pids => Path.Combine(Run, "pids");

    public string HostFile => Path.Combine(Run, "host.json");

    public string PidFile(string name) => Path.Combine(Pids, name + ".pid");

    public string LogFile(string name) => Path.Combine(Logs, name + ".log");

    /// <summary>
    /// The other host a guest migrates to: its own store and hypervisor under <c>remote/</c>, its
    /// own granted pages. No XenVMC Dom0 daemon runs there; a guest that lands on it is alone.
    /// </summary>
    public SimPaths Remote => new(Path.Combine(Run, "remote"));

    public const string RemoteSharedMemoryDirectory = SharedMemoryDirectory + "/remote";

    /// <summary>
    /// A guest's view of "its" Xen, stable across migrations: <c>xenbus</c> and <c>hypervisor</c>
    /// are symlinks to the sockets of the domain it currently is, the counterparts of the
    /// /dev/xen devices that a migrated guest keeps using on its new host.
    /// </summary>
    public string GuestDevices(string netns) => Path.Combine(Run, "guests", netns);

    public string GuestXenbus(string netns) => Path.Combine(GuestDevices(netns), "xenbus");

    public string GuestHypervisor(string netns) => Path.Combine(GuestDevices(netns), "hypervisor");

    public static string GuestNamespace(int index) => NamespacePrefix + "g" + index.ToString(CultureInfo.InvariantCulture);
}
