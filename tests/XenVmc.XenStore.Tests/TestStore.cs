using System.Net.Sockets;
using XenVmc.XenStore.Server;

namespace XenVmc.XenStore.Tests;

/// <summary>A store in its own temp directory, with helpers to connect; removes everything on dispose.</summary>
internal sealed class TestStore : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _owned = [];

    private TestStore(string directory, StoreServer server, StoreOptions options)
    {
        Directory = directory;
        Server = server;
        Options = options;
    }

    public string Directory { get; }

    public StoreServer Server { get; }

    public StoreOptions Options { get; }

    public string SocketPath => Options.SocketPath;

    public static async Task<TestStore> StartAsync(StoreQuotas? quotas = null, int? outputQueueBytes = null)
    {
        string directory = Path.Combine(Path.GetTempPath(), "xs-test-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(directory);
        var options = new StoreOptions { SocketPath = Path.Combine(directory, "socket") };
        if (quotas is not null)
        {
            options = options with { Quotas = quotas };
        }

        if (outputQueueBytes is int bytes)
        {
            options = options with { OutputQueueBytes = bytes };
        }

        StoreServer server = await StoreServer.StartAsync(options);
        return new TestStore(directory, server, options);
    }

    public string DomainSocket(uint domid) => Path.Combine(Options.DomainSocketDirectory, domid.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>A Dom0 client, closed with the store.</summary>
    public XenStoreClient Dom0()
    {
        XenStoreClient client = XenStoreClient.ConnectSocket(SocketPath);
        _owned.Add(client);
        return client;
    }

    /// <summary>A client on domain N's socket (N must have been introduced).</summary>
    public XenStoreClient Domain(uint domid)
    {
        XenStoreClient client = XenStoreClient.ConnectSocket(DomainSocket(domid));
        _owned.Add(client);
        return client;
    }

    /// <summary>Introduces domain N with the home libxl gives it: /local/domain/N owned by Dom0, readable by N, data/ owned by N.</summary>
    public async Task<XenStoreClient> IntroduceGuestAsync(XenStoreClient dom0, uint domid)
    {
        string home = $"/local/domain/{domid}";
        await dom0.MkdirAsync(home);
        await dom0.SetPermissionsAsync(home, [new XsPermission(XsAccess.None, 0), new XsPermission(XsAccess.Read, domid)]);
        await dom0.MkdirAsync(home + "/data");
        await dom0.SetPermissionsAsync(home + "/data", [new XsPermission(XsAccess.None, domid)]);
        await dom0.IntroduceAsync(domid, 0x1234, 1);
        return Domain(domid);
    }

    /// <summary>A raw socket to the Dom0 socket for byte-level tests.</summary>
    public Socket RawDom0()
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(SocketPath));
        return socket;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (IAsyncDisposable owned in _owned)
        {
            await owned.DisposeAsync();
        }

        await Server.DisposeAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
