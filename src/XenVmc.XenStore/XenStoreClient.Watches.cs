using System.Net.Sockets;
using XenVmc.XenStore.Protocol;

namespace XenVmc.XenStore;

public sealed partial class XenStoreClient
{
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

    internal async Task UnwatchAsync(XsWatch watch)
    {
        _watches.Remove(watch);
        try
        {
            XsReplies.Ok(await RequestAsync(XsMessageType.Unwatch, XsTransaction.None, XsRequests.Watch(watch.Path, watch.Token), watch.Path, CancellationToken.None).ConfigureAwait(false));
        }
        catch (XenStoreException e) when (e.Error == XsError.ENOENT)
        {
            // Already gone on the server: a domain re-introduction or RESET_WATCHES drops watches.
        }
        catch (Exception e) when (e is ObjectDisposedException or IOException or SocketException)
        {
            // The connection is gone, and the watch with it.
        }
    }
}
