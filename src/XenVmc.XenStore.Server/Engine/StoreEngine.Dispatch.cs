using XenVmc.XenStore.Protocol;
using XenVmc.XenStore.Server.Connections;
using XenVmc.XenStore.Server.Store;

namespace XenVmc.XenStore.Server.Engine;

internal sealed partial class StoreEngine
{
    /// <summary>
    /// process_message(): unknown types get ENOSYS, dom0-only types EACCES from others, and a tx_id
    /// that names no open transaction ENOENT (WATCH and UNWATCH ignore tx_id) — in that order.
    /// </summary>
    private void Dispatch(StoreConnection connection, XsHeader header, ReadOnlySpan<byte> payload)
    {
        XsMessageType type = header.Type;
        if (!IsImplemented(type))
        {
            throw new StoreErrorException(XsError.ENOSYS);
        }

        if (IsPrivilegedOnly(type) && !connection.Privileged)
        {
            throw new StoreErrorException(XsError.EACCES);
        }

        StoreTransaction? transaction = null;
        if (type is not (XsMessageType.Watch or XsMessageType.Unwatch) && header.TransactionId != 0 &&
            !connection.Transactions.TryGetValue(header.TransactionId, out transaction))
        {
            throw new StoreErrorException(XsError.ENOENT);
        }

        NodeView view = transaction is null
            ? _global
            : new TransactionView(_database, transaction, connection.Privileged ? int.MaxValue : _options.Quotas.TransactionNodes);
        var request = new Request(connection, header, payload, view);
        switch (type)
        {
            case XsMessageType.Read: Read(request); break;
            case XsMessageType.Write: Write(request); break;
            case XsMessageType.Mkdir: Mkdir(request); break;
            case XsMessageType.Rm: Rm(request); break;
            case XsMessageType.Directory: Directory(request); break;
            case XsMessageType.DirectoryPart: DirectoryPart(request); break;
            case XsMessageType.GetPerms: GetPerms(request); break;
            case XsMessageType.SetPerms: SetPerms(request); break;
            case XsMessageType.Watch: AddWatch(request); break;
            case XsMessageType.Unwatch: RemoveWatch(request); break;
            case XsMessageType.ResetWatches: ResetWatches(request); break;
            case XsMessageType.TransactionStart: StartTransaction(request); break;
            case XsMessageType.TransactionEnd: EndTransaction(request); break;
            case XsMessageType.Introduce: Introduce(request); break;
            case XsMessageType.Release: Release(request); break;
            case XsMessageType.Resume: Resume(request); break;
            case XsMessageType.SetTarget: SetTarget(request); break;
            case XsMessageType.GetDomainPath: GetDomainPath(request); break;
            case XsMessageType.IsDomainIntroduced: IsDomainIntroduced(request); break;
            default: throw new StoreErrorException(XsError.ENOSYS);
        }
    }

    /// <summary>
    /// The request types xenstored has a handler for. CONTROL (xenstore-control's debug commands) is
    /// recognised, so others get EACCES as from xenstored, but Dom0 gets ENOSYS: it is not simulated.
    /// </summary>
    private static bool IsImplemented(XsMessageType type) => type switch
    {
        XsMessageType.WatchEvent or XsMessageType.Error => false,
        (XsMessageType)20 => false,
        _ => (uint)type <= (uint)XsMessageType.DirectoryPart,
    };

    private static bool IsPrivilegedOnly(XsMessageType type) => type is
        XsMessageType.Control or XsMessageType.Introduce or XsMessageType.Release or
        XsMessageType.IsDomainIntroduced or XsMessageType.Resume or XsMessageType.SetTarget;
}
