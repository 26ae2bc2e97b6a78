using XenVmc.XenStore.Protocol;

namespace XenVmc.XenStore;

public sealed partial class XenStoreClient
{
    private static readonly TimeSpan UnwatchTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Registers a watch on <paramref name="path"/> and everything below it. Special paths
    /// <c>@introduceDomain</c> and <c>@releaseDomain</c> are allowed; relative paths report relative events.
    /// </summary>
    public async Task<XsWatch> WatchAsync(string path, string token, CancellationToken ct = default)
    {
        var watch = new XsWatch(this, path, token);
        _watches.Add(watch);
        try
        {
            XsReplies.Ok(await RequestAsync(XsMessageType.Watch, XsTransaction.None, XsRequests.Watch(path, token), path, ct).ConfigureAwait(false));
            return watch;
        }
        catch
        {
            _watches.Remove(watch);
            watch.Complete(null);
            throw;
        }
    }

    /// <summary>
    /// Events stop at once (the watch leaves the table first). The UNWATCH reply is awaited for a
    /// bounded time only, so disposing never hangs on a server that stopped answering; a watch left
    /// behind on such a server only produces events this client drops.
    /// </summary>
    internal async Task UnwatchAsync(XsWatch watch)
    {
        _watches.Remove(watch);
        using var timeout = new CancellationTokenSource(UnwatchTimeout);
        try
        {
            XsReplies.Ok(await RequestAsync(XsMessageType.Unwatch, XsTransaction.None, XsRequests.Watch(watch.Path, watch.Token), watch.Path, timeout.Token).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
        }
        catch (XenStoreException e) when (e.Error == XsError.ENOENT)
        {
            // Already gone on the server: a domain re-introduction or RESET_WATCHES drops watches.
        }
        catch (XenStoreConnectionException)
        {
            // The connection is gone, and the watch with it.
        }
    }
}
