using XenVmc.XenStore.Server.Connections;

namespace XenVmc.XenStore.Server.Store;

/// <summary>perm_for_conn() of xenstored core.c.</summary>
internal static class Permissions
{
    private const PermBits All = PermBits.Read | PermBits.Write | PermBits.Owner;

    public static PermBits For(StoreDatabase database, StoreConnection connection, Node node) =>
        For(database, connection, node.Perms, node.Generation);

    /// <summary>
    /// Dom0 and the owner get everything; otherwise the first later entry naming the domain (or the
    /// domain it is a stub for) decides; otherwise the owner entry's letter is everybody's default.
    /// Entries for domains that are gone, or younger than the node, count for nothing.
    /// </summary>
    public static PermBits For(StoreDatabase database, StoreConnection connection, NodePerm[] perms, long generation)
    {
        if (connection.Privileged)
        {
            return All;
        }

        uint domid = connection.DomId;
        uint? target = database.Domains.Find(domid)?.Target;
        if (perms[0].DomainId == domid || perms[0].DomainId == target)
        {
            return All;
        }

        for (int i = 1; i < perms.Length; i++)
        {
            NodePerm p = perms[i];
            if (p.Ignored || !database.Domains.IsCurrent(p.DomainId, generation))
            {
                continue;
            }

            if (p.DomainId == domid || p.DomainId == target)
            {
                return p.Access;
            }
        }

        return perms[0].Access;
    }
}
