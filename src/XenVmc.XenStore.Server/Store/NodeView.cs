namespace XenVmc.XenStore.Server.Store;

/// <summary>
/// What an operation reads and writes through: the committed tree directly, or a transaction.
/// Operations are written once against this and behave as xenstored's do in both cases.
/// </summary>
internal abstract class NodeView(StoreDatabase database)
{
    public StoreDatabase Database { get; } = database;

    public abstract StoreTransaction? Transaction { get; }

    public abstract Node? Get(string path);

    /// <summary>Stores a node with a fresh generation and its ACL adjusted (write_node); returns what was stored.</summary>
    public abstract Node Put(string path, Node node);

    public abstract void Delete(string path);

    /// <summary>fire_watches(): now for the committed tree, at commit for a transaction.</summary>
    public abstract void Fire(string path, bool exact, Node? node, NodePerm[]? oldPerms);

    /// <summary>Nodes <paramref name="domid"/> owns, counting this view's uncommitted changes.</summary>
    public abstract int NodeCount(uint domid);

    public abstract void AddNodeCount(uint domid, int delta);

    /// <summary>A write failed after earlier ones in the same transaction; the commit must not go through.</summary>
    public abstract void FailTransaction();

    protected Node Stamp(Node node)
    {
        long generation = Database.NextGeneration();
        return node with { Generation = generation, Perms = Database.AdjustPerms(node.Perms, generation) };
    }
}
