namespace XenVmc.XenStore;

/// <summary>The live watches of one client, by token.</summary>
// Design: the reader loop delivers while callers add and remove, so one small lock guards the
// dictionary; delivery only writes into unbounded channels, so the lock is never held across a wait.
// A watch is added before its WATCH request is sent: the xenbus device may queue the registration
// event ahead of the reply.
internal sealed class WatchTable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<XsWatch>> _byToken = new(StringComparer.Ordinal);
    private bool _completed;
    private Exception? _completion;

    public void Add(XsWatch watch)
    {
        lock (_lock)
        {
            if (_completed)
            {
                watch.Complete(_completion);
                return;
            }

            if (!_byToken.TryGetValue(watch.Token, out List<XsWatch>? list))
            {
                list = [];
                _byToken.Add(watch.Token, list);
            }

            list.Add(watch);
        }
    }

    public void Remove(XsWatch watch)
    {
        lock (_lock)
        {
            if (_byToken.TryGetValue(watch.Token, out List<XsWatch>? list) && list.Remove(watch) && list.Count == 0)
            {
                _byToken.Remove(watch.Token);
            }
        }
    }

    /// <summary>
    /// Events name a token; several watches may share one (xenstored allows it for different paths),
    /// so those whose path covers the event get it. An event no watch covers (xenstored may fire
    /// spuriously) still goes to every watch of the token rather than being lost.
    /// </summary>
    public void Deliver(string path, string token)
    {
        lock (_lock)
        {
            if (!_byToken.TryGetValue(token, out List<XsWatch>? list))
            {
                return;
            }

            if (list.Count == 1)
            {
                list[0].Post(path);
                return;
            }

            bool delivered = false;
            foreach (XsWatch watch in list)
            {
                if (Covers(watch.Path, path))
                {
                    watch.Post(path);
                    delivered = true;
                }
            }

            if (!delivered)
            {
                foreach (XsWatch watch in list)
                {
                    watch.Post(path);
                }
            }
        }
    }

    public void CompleteAll(Exception? failure)
    {
        List<XsWatch> all;
        lock (_lock)
        {
            _completed = true;
            _completion = failure;
            all = _byToken.Values.SelectMany(l => l).ToList();
            _byToken.Clear();
        }

        foreach (XsWatch watch in all)
        {
            watch.Complete(failure);
        }
    }

    /// <summary>xenstored's is_child(): the path itself or anything below it; "/" covers everything but special paths.</summary>
    internal static bool Covers(string watched, string eventPath)
    {
        if (watched == "/")
        {
            return eventPath.StartsWith('/');
        }

        return eventPath.Length == watched.Length
            ? eventPath == watched
            : eventPath.Length > watched.Length && eventPath[watched.Length] == '/' && eventPath.StartsWith(watched, StringComparison.Ordinal);
    }
}
