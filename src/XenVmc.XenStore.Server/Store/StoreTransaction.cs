using System.Collections.Immutable;

namespace XenVmc.XenStore.Server.Store;

/// <summary>
/// An open transaction of one connection: the snapshot it reads, and every node it touched in
/// first-touch order (xenstored's accessed list), with the generation seen at first touch.
/// Used only under the engine lock.
/// </summary>
internal sealed class StoreTransaction(uint id, ImmutableDictionary<string, Node> snapshot)
{
    private readonly Dictionary<string, AccessedNode> _accessed = new(StringComparer.Ordinal);

    public uint Id { get; } = id;

    public ImmutableDictionary<string, Node> Snapshot { get; } = snapshot;

    /// <summary>In the order the transaction first touched them; commit applies and fires in this order.</summary>
    public List<AccessedNode> Order { get; } = [];

    /// <summary>Node-count changes per owner, applied at commit.</summary>
    public Dictionary<uint, int> NodeDelta { get; } = [];

    /// <summary>A write failed half-way; the commit answers ENOMEM like xenstored.</summary>
    public bool Failed { get; set; }

    public bool NodeCreated { get; set; }

    public AccessedNode? Find(string path) => _accessed.GetValueOrDefault(path);

    public AccessedNode Add(string path, Node? original, bool checkGeneration)
    {
        var entry = new AccessedNode(path)
        {
            OriginalGeneration = original?.Generation ?? StoreDatabase.NoGeneration,
            Original = original,
            CheckGeneration = checkGeneration,
            Current = original,
        };
        _accessed.Add(path, entry);
        Order.Add(entry);
        return entry;
    }
}

/// <summary>One node a transaction touched.</summary>
internal sealed class AccessedNode(string path)
{
    public string Path { get; } = path;

    /// <summary>The generation at first touch, or NO_GENERATION if it did not exist.</summary>
    public long OriginalGeneration { get; init; }

    /// <summary>The node at first touch: its ACL decides who hears of a change made in the transaction.</summary>
    public Node? Original { get; init; }

    /// <summary>First touched by a read: the commit fails with EAGAIN if it changed since.</summary>
    public bool CheckGeneration { get; init; }

    public bool Modified { get; set; }

    /// <summary>The transaction's version; null when deleted or absent.</summary>
    public Node? Current { get; set; }

    public bool FireWatch { get; set; }

    public bool WatchExact { get; set; }
}
