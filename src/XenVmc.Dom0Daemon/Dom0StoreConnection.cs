using XenVmc.XenStore;

namespace XenVmc.Dom0Daemon;

/// <summary>The one XenStore connection Dom0's hosted services share: the reconcile service opens and owns it, the health service waits for it.</summary>
/// <remarks>
/// Design: the connection is published once through a task completion source, so a service that
/// needs it awaits it (with its own stopping token) instead of racing the owner's start; the owner
/// disposes it after the services that use it have stopped (the host stops services in reverse order).
/// </remarks>
internal sealed class Dom0StoreConnection
{
    private readonly TaskCompletionSource<XenStoreClient> _opened = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="path">the xenstored socket; null: the default (/dev/xen/xenbus or the local socket)</param>
    public XenStoreClient Open(string? path)
    {
        var store = path is null ? XenStoreClient.OpenDefault() : XenStoreClient.ConnectSocket(path);
        _opened.TrySetResult(store);
        return store;
    }

    public Task<XenStoreClient> OpenedAsync(CancellationToken ct) => _opened.Task.WaitAsync(ct);
}
