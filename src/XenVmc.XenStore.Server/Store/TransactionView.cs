namespace XenVmc.XenStore.Server.Store;

/// <summary>
/// Operations inside a transaction: reads come from the snapshot taken at TRANSACTION_START (or the
/// transaction's own changes), writes stay in the transaction, watch events wait for the commit.
/// </summary>
internal sealed class TransactionView(StoreDatabase database, StoreTransaction transaction, int nodeLimit) : NodeView(database)
{
    public override StoreTransaction Transaction => transaction;

    public override Node? Get(string path) => Touch(path).Current;

    public override Node Put(string path, Node node)
    {
        Node stamped = Stamp(node);
        AccessedNode entry = Touch(path);
        entry.Current = stamped;
        entry.Modified = true;
        return stamped;
    }

    public override void Delete(string path)
    {
        AccessedNode entry = Touch(path);
        entry.Current = null;
        entry.Modified = true;
    }

    /// <summary>queue_watches(): a non-exact event replaces an exact one, not the other way round.</summary>
    public override void Fire(string path, bool exact, Node? node, NodePerm[]? oldPerms)
    {
        AccessedNode? entry = transaction.Find(path);
        if (entry is null)
        {
            transaction.Failed = true;
            return;
        }

        if (!entry.FireWatch)
        {
            entry.FireWatch = true;
            entry.WatchExact = exact;
        }
        else if (!exact)
        {
            entry.WatchExact = false;
        }
    }

    public override int NodeCount(uint domid) =>
        Database.NodeCount(domid) + transaction.NodeDelta.GetValueOrDefault(domid);

    public override void AddNodeCount(uint domid, int delta) =>
        transaction.NodeDelta[domid] = transaction.NodeDelta.GetValueOrDefault(domid) + delta;

    public override void FailTransaction() => transaction.Failed = true;

    /// <summary>access_node(): the first touch records the snapshot's generation; too many touches fail the transaction.</summary>
    private AccessedNode Touch(string path)
    {
        if (transaction.Find(path) is AccessedNode entry)
        {
            return entry;
        }

        if (transaction.Order.Count + 1 > nodeLimit)
        {
            transaction.Failed = true;
            throw new StoreErrorException(XsError.ENOSPC);
        }

        return transaction.Add(path, transaction.Snapshot.GetValueOrDefault(path), checkGeneration: true);
    }
}
