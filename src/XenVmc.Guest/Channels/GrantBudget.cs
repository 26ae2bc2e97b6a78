namespace XenVmc.Guest.Channels;

/// <summary>
/// The pages this daemon may still grant: the platform's limit (gntalloc's <c>limit</c> on
/// Linux, per domain) less what our offered channels hold. A channel reserves its pages before
/// it grants any and gives them back when it is released, so a guest never asks gntalloc for
/// pages it would refuse.
/// </summary>
/// <remarks>
/// Design: shared by every peer's control loop under one lock. A link that finds too little
/// left waits on <see cref="TryReserve"/>'s task, which completes at the next release, so
/// waiting links try again exactly when pages come free instead of polling.
/// </remarks>
internal sealed class GrantBudget(int? limit)
{
    private readonly Lock _lock = new();
    private int _used;
    private TaskCompletionSource _freed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Pages the platform lets this domain grant; null: unknown, nothing is refused here.</summary>
    public int? Limit => limit;

    public int Used
    {
        get
        {
            lock (_lock)
            {
                return _used;
            }
        }
    }

    /// <summary>Reserves <paramref name="pages"/> if they fit; otherwise false and a task that completes when pages are released.</summary>
    public bool TryReserve(int pages, out Task freed)
    {
        lock (_lock)
        {
            freed = _freed.Task;
            if (limit is int max && _used + pages > max)
            {
                return false;
            }

            _used += pages;
            return true;
        }
    }

    public void Release(int pages)
    {
        TaskCompletionSource freed;
        lock (_lock)
        {
            _used -= pages;
            freed = _freed;
            _freed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        freed.TrySetResult();
    }

    /// <summary>Pages one channel grants: the control page and both rings.</summary>
    public static int ChannelPages(int ringBytes) => XenVmc.Rings.ChannelLayout.GrantedPages(ringBytes);
}
