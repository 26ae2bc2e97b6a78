using System.Collections.Immutable;
using XenVmc.XenStore.Server.Domains;

namespace XenVmc.XenStore.Server.Store;

/// <summary>
/// The committed tree: a flat map from canonical path to node, like xenstored's hashtable, plus the
/// generation counter and the domains. Used only under the engine lock.
/// </summary>
// Design: the map is immutable, so starting a transaction is taking a reference (a true snapshot) and
// a write replaces the reference. Node counts per owner live in DomainState for
// domains, as xenstored accounts them.
internal sealed class StoreDatabase
{
    /// <summary>xenstored's NO_GENERATION: the generation recorded for a node that did not exist.</summary>
    public const long NoGeneration = -1;

    private long _generation;

    public ImmutableDictionary<string, Node> Nodes { get; set; } = ImmutableDictionary.Create<string, Node>(StringComparer.Ordinal);

    public DomainTable Domains { get; } = new();

    public long Generation => _generation;

    /// <summary>Like xenstored, increment before use, so every node and transaction gets a distinct value.</summary>
    public long NextGeneration() => ++_generation;

    public Node? Get(string path) => Nodes.GetValueOrDefault(path);

    /// <summary>domain_adjust_node_perms(): entries for domains that are gone or younger than the node get Ignore, for good.</summary>
    public NodePerm[] AdjustPerms(NodePerm[] perms, long generation)
    {
        NodePerm[]? copy = null;
        for (int i = 1; i < perms.Length; i++)
        {
            if (perms[i].Ignored || Domains.IsCurrent(perms[i].DomainId, generation))
            {
                continue;
            }

            copy ??= (NodePerm[])perms.Clone();
            copy[i] = perms[i] with { Bits = perms[i].Bits | PermBits.Ignore };
        }

        return copy ?? perms;
    }

    /// <summary>Nodes owned by a domain (0 for one the store does not know).</summary>
    public int NodeCount(uint domid) => Domains.Find(domid)?.NodeCount ?? 0;

    public void AddNodeCount(uint domid, int delta)
    {
        if (Domains.FindOrCreate(domid, _generation) is DomainState d)
        {
            d.NodeCount = Math.Max(0, d.NodeCount + delta);
        }
    }
}
