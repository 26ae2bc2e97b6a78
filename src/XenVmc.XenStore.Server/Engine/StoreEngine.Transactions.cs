using System.Globalization;
using XenVmc.XenStore.Server.Connections;
using XenVmc.XenStore.Server.Store;

namespace XenVmc.XenStore.Server.Engine;

internal sealed partial class StoreEngine
{
    /// <summary>
    /// do_transaction_start(): no nesting (EBUSY when sent inside a transaction); the per-connection
    /// quota is checked like xenstored, count before adding with '>', failing with ENOSPC.
    /// </summary>
    private void StartTransaction(in Request request)
    {
        StoreConnection connection = request.Connection;
        if (request.Transaction is not null)
        {
            throw new StoreErrorException(XsError.EBUSY);
        }

        if (request.Unprivileged && connection.Transactions.Count > _options.Quotas.Transactions)
        {
            throw new StoreErrorException(XsError.ENOSPC);
        }

        uint id;
        do
        {
            id = connection.NextTransactionId++;
        }
        while (id == 0 || connection.Transactions.ContainsKey(id));

        // The snapshot is the committed tree as of now: reads inside see nothing written later.
        _database.NextGeneration();
        connection.Transactions.Add(id, new StoreTransaction(id, _database.Nodes));
        request.Reply(RequestArgs.Bytes.GetBytes(id.ToString(CultureInfo.InvariantCulture) + "\0"));
    }

    /// <summary>
    /// do_transaction_end(): <c>T\0</c> commits, <c>F\0</c> aborts; anything else is EINVAL and leaves
    /// the transaction open. Otherwise the transaction is gone whatever the outcome.
    /// </summary>
    private void EndTransaction(in Request request)
    {
        string? arg = RequestArgs.OneArg(request.Payload);
        if (arg is not ("T" or "F"))
        {
            throw new StoreErrorException(XsError.EINVAL);
        }

        if (request.Transaction is not StoreTransaction transaction)
        {
            throw new StoreErrorException(XsError.ENOENT);
        }

        request.Connection.Transactions.Remove(transaction.Id);
        if (arg == "T")
        {
            Commit(request, transaction);
        }

        request.Ok();
    }

    /// <summary>
    /// finalize_transaction(): ENOMEM if a write inside failed, ENOSPC if the node quota no longer
    /// holds, EAGAIN if anything the transaction read changed since; else its changes become the
    /// committed tree in first-touch order, and their watches fire.
    /// </summary>
    private void Commit(in Request request, StoreTransaction transaction)
    {
        if (transaction.Failed)
        {
            throw new StoreErrorException(XsError.ENOMEM);
        }

        // acc_fix_domains(): note '>=' here, unlike the check when creating outside a transaction.
        if (transaction.NodeCreated && request.Unprivileged)
        {
            foreach ((uint domid, int delta) in transaction.NodeDelta)
            {
                if (domid != 0 && _database.NodeCount(domid) + delta >= _options.Quotas.Nodes)
                {
                    throw new StoreErrorException(XsError.ENOSPC);
                }
            }
        }

        foreach (AccessedNode entry in transaction.Order)
        {
            long current = _database.Get(entry.Path)?.Generation ?? StoreDatabase.NoGeneration;
            if (entry.CheckGeneration && current != entry.OriginalGeneration)
            {
                throw new StoreErrorException(XsError.EAGAIN);
            }
        }

        foreach (AccessedNode entry in transaction.Order)
        {
            if (entry.Modified)
            {
                if (entry.Current is Node node)
                {
                    _global.Put(entry.Path, node);
                }
                else if (_database.Get(entry.Path) is not null)
                {
                    _global.Delete(entry.Path);
                }
            }

            if (entry.FireWatch)
            {
                NodePerm[]? oldPerms = entry.Original is Node original ? _database.AdjustPerms(original.Perms, original.Generation) : null;
                _global.Fire(entry.Path, entry.WatchExact, node: null, oldPerms);
            }
        }

        foreach ((uint domid, int delta) in transaction.NodeDelta)
        {
            _database.AddNodeCount(domid, delta);
        }
    }
}
