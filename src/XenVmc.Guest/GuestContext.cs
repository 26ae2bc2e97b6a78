using XenVmc.Platform;
using XenVmc.XenStore;

namespace XenVmc.Guest;

/// <summary>What every part of the guest daemon's control path shares: who we are and how we talk.</summary>
internal sealed class GuestContext(ushort domid, XenStoreClient store, IXenPlatform platform, GuestOptions options, GuestLog log, Linux.ResumeEpoch resume)
{
    private int _token;

    public ushort Domid { get; } = domid;

    public XenStoreClient Store { get; } = store;

    public IXenPlatform Platform { get; } = platform;

    public GuestOptions Options { get; } = options;

    public GuestLog Log { get; } = log;

    /// <summary>The daemon's count of suspend/resume cycles (save/restore, migration): what stamps each channel.</summary>
    public Linux.ResumeEpoch Resume { get; } = resume;

    /// <summary>What our offered channels may still grant (see <see cref="Channels.GrantBudget"/>).</summary>
    public Channels.GrantBudget Budget { get; } = new(platform.Grants.GrantLimit);

    public string NextToken() => "xenvmc-" + Interlocked.Increment(ref _token).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Reads a node we may not be able to see yet: absent or unreadable is null.</summary>
    public async Task<string?> TryReadAsync(string path, CancellationToken ct)
    {
        try
        {
            return await Store.TryReadStringAsync(path, default, ct).ConfigureAwait(false);
        }
        catch (XenStoreException e) when (e.Error is XsError.EACCES or XsError.ENOENT)
        {
            return null;
        }
    }

    /// <summary>Removes a subtree; one that is not there (or whose parent is not) is already removed.</summary>
    public async Task RemoveAsync(string path, XsTransaction tx, CancellationToken ct)
    {
        try
        {
            await Store.RmAsync(path, tx, ct).ConfigureAwait(false);
        }
        catch (XenStoreException e) when (e.Error == XsError.ENOENT)
        {
        }
    }

    /// <summary>
    /// Waits for the next watch event or the timeout, whichever comes first; drains queued events.
    /// True when the watch fired, false when the timeout passed first.
    /// </summary>
    /// <remarks>
    /// A timeout is the common case for the channel monitor's tick (4 a second per peer), so it
    /// must not cost a thrown exception: the cancelled wait is observed, not rethrown.
    /// </remarks>
    public async Task<bool> WaitForEventAsync(XsWatch watch, TimeSpan timeout, CancellationToken ct)
    {
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeoutSource.CancelAfter(timeout);
        var wait = watch.Events.WaitToReadAsync(timeoutSource.Token).AsTask();
        await ((Task)wait).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        ct.ThrowIfCancellationRequested();
        if (wait.IsCanceled)
        {
            return false;
        }

        if (!await wait.ConfigureAwait(false))
        {
            throw new XenStoreConnectionException($"the XenStore connection closed while watching {watch.Path}");
        }

        while (watch.Events.TryRead(out _))
        {
        }

        return true;
    }

    /// <summary>Waits for an event on any of the watches; drains them all. The store closing ends it with a <see cref="XenStoreConnectionException"/>.</summary>
    public async Task WaitForAnyAsync(XsWatch[] watches, CancellationToken ct)
    {
        var waits = Array.ConvertAll(watches, w => w.Events.WaitToReadAsync(ct).AsTask());
        var done = await Task.WhenAny(waits).ConfigureAwait(false);
        if (!await done.ConfigureAwait(false))
        {
            throw new XenStoreConnectionException($"the XenStore connection closed while watching {watches[Array.IndexOf(waits, done)].Path}");
        }

        foreach (var watch in watches)
        {
            while (watch.Events.TryRead(out _))
            {
            }
        }
    }
}
