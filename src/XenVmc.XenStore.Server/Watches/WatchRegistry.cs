using XenVmc.XenStore.Server.Connections;
using XenVmc.XenStore.Server.Store;

namespace XenVmc.XenStore.Server.Watches;

/// <summary>
/// All watches of all connections, indexed by watched path. Used only under the engine lock.
/// </summary>
// Design: xenstored scans every watch of every connection per change. Here a change looks up only the
// paths that can match it — the node for an exact event, the node and its ancestors otherwise — so
// fan-out costs the path depth plus the watches that actually match, whatever the size of the tree.
// Delivery only appends to the watcher's output queue and never waits.
internal sealed class WatchRegistry
{
    private readonly Dictionary<string, List<Watch>> _byPath = new(StringComparer.Ordinal);

    public void Add(Watch watch)
    {
        if (!_byPath.TryGetValue(watch.Node, out List<Watch>? list))
        {
            list = [];
            _byPath.Add(watch.Node, list);
        }

        list.Add(watch);
        watch.Connection.Watches.Add(watch);
    }

    public void Remove(Watch watch)
    {
        watch.Connection.Watches.Remove(watch);
        if (_byPath.TryGetValue(watch.Node, out List<Watch>? list) && list.Remove(watch) && list.Count == 0)
        {
            _byPath.Remove(watch.Node);
        }
    }

    public void RemoveAll(StoreConnection connection)
    {
        foreach (Watch watch in connection.Watches.ToArray())
        {
            Remove(watch);
        }
    }

    /// <summary>
    /// fire_watches(): every watch on <paramref name="name"/> (exact) or on it or an ancestor (not exact)
    /// whose connection may know about the node gets an event.
    /// </summary>
    public void Fire(StoreDatabase database, string name, bool exact, Node? node, NodePerm[]? oldPerms)
    {
        Dictionary<StoreConnection, bool>? verdicts = null;
        foreach (string key in exact ? [name] : StorePaths.SelfAndAncestors(name))
        {
            if (!_byPath.TryGetValue(key, out List<Watch>? list))
            {
                continue;
            }

            foreach (Watch watch in list)
            {
                verdicts ??= [];
                if (!verdicts.TryGetValue(watch.Connection, out bool permitted))
                {
                    permitted = Permitted(database, watch.Connection, name, node, oldPerms);
                    verdicts.Add(watch.Connection, permitted);
                }

                if (permitted)
                {
                    watch.Connection.SendEvent(name[watch.PrefixLength..], watch.Token);
                }
            }
        }
    }

    /// <summary>
    /// watch_permitted(): the watcher may read the node or its parent — or, for a permission change,
    /// could read it under the old ACL, so that losing access is still announced.
    /// </summary>
    private static bool Permitted(StoreDatabase database, StoreConnection connection, string name, Node? node, NodePerm[]? oldPerms)
    {
        if (oldPerms is not null && (Permissions.For(database, connection, oldPerms, long.MaxValue) & PermBits.Read) != 0)
        {
            return true;
        }

        node ??= database.Get(name);
        if (node is null)
        {
            return false;
        }

        if ((Permissions.For(database, connection, node) & PermBits.Read) != 0)
        {
            return true;
        }

        Node? parent = database.Get(StorePaths.Parent(name));
        return parent is not null && (Permissions.For(database, connection, parent) & PermBits.Read) != 0;
    }
}
