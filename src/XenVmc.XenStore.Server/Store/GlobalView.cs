using XenVmc.XenStore.Server.Watches;

namespace XenVmc.XenStore.Server.Store;

/// <summary>Operations outside a transaction: straight into the committed tree, watches fire at once.</summary>
internal sealed class GlobalView(StoreDatabase database, WatchRegistry watches) : NodeView(database)
{
    public override StoreTransaction? Transaction => null;

    public override Node? Get(string path) => Database.Get(path);

    public override Node Put(string path, Node node)
    {
        Node stamped = Stamp(node);
        Database.Nodes = Database.Nodes.SetItem(path, stamped);
        return stamped;
    }

    public override void Delete(string path) => Database.Nodes = Database.Nodes.Remove(path);

    public override void Fire(string path, bool exact, Node? node, NodePerm[]? oldPerms) =>
        watches.Fire(Database, path, exact, node, oldPerms);

    public override int NodeCount(uint domid) => Database.NodeCount(domid);

    public override void AddNodeCount(uint domid, int delta) => Database.AddNodeCount(domid, delta);

    public override void FailTransaction()
    {
    }
}
