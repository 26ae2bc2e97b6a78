using XenVmc.XenStore.Server.Store;

namespace XenVmc.XenStore.Server.Engine;

internal sealed partial class StoreEngine
{
    private void GetPerms(in Request request)
    {
        string name = Canonicalize(request.Connection, RequestArgs.OneArg(request.Payload), allowSpecial: true);
        Node node = GetNode(request, name, PermBits.Read);
        request.Reply(RequestArgs.Join(node.Perms.Select(p => p.ToString())));
    }

    /// <summary>
    /// do_set_perms(): <c>path\0perm\0…</c>. Only the owner (or Dom0) may change an ACL, and an
    /// unprivileged owner may not give the node away (EPERM). Watchers that could read the node under
    /// the old ACL hear of the change too.
    /// </summary>
    private void SetPerms(in Request request)
    {
        int count = RequestArgs.CountStrings(request.Payload);
        if (count < 2)
        {
            throw new StoreErrorException(XsError.EINVAL);
        }

        int permCount = count - 1;
        if (request.Unprivileged && permCount > _options.Quotas.PermissionsPerNode)
        {
            throw new StoreErrorException(XsError.ENOSPC);
        }

        List<string> args = RequestArgs.Strings(request.Payload);
        var perms = new NodePerm[permCount];
        for (int i = 0; i < permCount; i++)
        {
            if (!XsPermission.TryParse(args[i + 1], out XsPermission parsed))
            {
                throw new StoreErrorException(XsError.EINVAL);
            }

            perms[i] = NodePerm.From(parsed);

            // domain_alloc_permrefs(): a domain named in an ACL starts to exist (ids that cannot be
            // domains are marked ignored), so its entry is valid for this node from now on.
            if (_database.Domains.FindOrCreate(perms[i].DomainId, _database.Generation) is null)
            {
                perms[i] = perms[i] with { Bits = perms[i].Bits | PermBits.Ignore };
            }
        }

        if (perms[0].Ignored)
        {
            throw new StoreErrorException(XsError.ENOENT);
        }

        string name = Canonicalize(request.Connection, args[0], allowSpecial: true);
        Node node = GetNode(request, name, PermBits.Write | PermBits.Owner);
        if (request.Unprivileged && perms[0].DomainId != node.Owner)
        {
            throw new StoreErrorException(XsError.EPERM);
        }

        NodePerm[] oldPerms = _database.AdjustPerms(node.Perms, node.Generation);
        request.View.AddNodeCount(node.Owner, -1);
        request.View.AddNodeCount(perms[0].DomainId, 1);
        Node updated = request.View.Put(name, node with { Perms = perms });
        request.View.Fire(name, exact: false, updated, oldPerms);
        request.Ok();
    }
}
