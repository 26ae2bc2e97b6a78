using XenVmc.XenStore.Transport;

namespace XenVmc.XenStore;

public sealed partial class XenStoreClient
{
    private const string DefaultRunDirectory = "/var/run/xenstored";
    private const string DefaultDevice = "/dev/xen/xenbus";
    private const string LegacyDevice = "/proc/xen/xenbus";

    /// <summary>Connects to a xenstored unix socket (dom0, or a simulated domain's socket).</summary>
    /// <exception cref="XenStoreConnectionException">Nothing listens there.</exception>
    public static XenStoreClient ConnectSocket(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new XenStoreClient(SocketTransport.Connect(path));
    }

    /// <summary>Opens the guest kernel's xenbus device.</summary>
    /// <exception cref="XenStoreConnectionException">The device cannot be opened.</exception>
    public static XenStoreClient OpenXenbus(string device = DefaultDevice)
    {
        ArgumentException.ThrowIfNullOrEmpty(device);
        return new XenStoreClient(XenbusDeviceTransport.Open(device));
    }

    /// <summary>
    /// Opens XenStore the way libxenstore's <c>xs_open(0)</c> does: <c>$XENSTORED_PATH</c> if set, else
    /// <c>$XENSTORED_RUNDIR/socket</c> (default <c>/var/run/xenstored/socket</c>); a socket is connected
    /// to, anything else is opened as a device; when that fails, the xenbus device is the fallback.
    /// </summary>
    public static XenStoreClient OpenDefault()
    {
        string? env = Environment.GetEnvironmentVariable("XENSTORED_PATH");
        string socketPath = !string.IsNullOrEmpty(env)
            ? env
            : Path.Combine(Environment.GetEnvironmentVariable("XENSTORED_RUNDIR") is { Length: > 0 } run ? run : DefaultRunDirectory, "socket");

        Exception? first = null;
        try
        {
            if (IsSocket(socketPath))
            {
                return ConnectSocket(socketPath);
            }

            if (!string.IsNullOrEmpty(env) && File.Exists(env))
            {
                return OpenXenbus(env);
            }
        }
        catch (XenStoreConnectionException e)
        {
            first = e;
        }

        string device = File.Exists(DefaultDevice) || !File.Exists(LegacyDevice) ? DefaultDevice : LegacyDevice;
        try
        {
            return OpenXenbus(device);
        }
        catch (XenStoreConnectionException e) when (first is not null)
        {
            throw new XenStoreConnectionException($"cannot open XenStore: {first.Message}; {e.Message}", e);
        }
    }

    /// <summary>For tests: a client over any transport, e.g. the xenbus transport over a socket pair.</summary>
    internal static XenStoreClient FromTransport(IXsTransport transport) => new(transport);

    private static bool IsSocket(string path) => Linux.FileDescriptor.IsSocket(path);
}
