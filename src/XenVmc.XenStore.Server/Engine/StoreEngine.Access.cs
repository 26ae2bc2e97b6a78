using XenVmc.XenStore.Protocol;
using XenVmc.XenStore.Server.Connections;
using XenVmc.XenStore.Server.Store;

namespace XenVmc.XenStore.Server.Engine;

internal sealed partial class StoreEngine
{
    /// <summary>
    /// canonicalize(): only <c>A-Za-z0-9-/_@</c>; '@' names only where special nodes are allowed;
    /// relative paths are below the connection's /local/domain/N; no trailing '/' (but "/"), no "//";
    /// unprivileged domains are held to the path-length quota below /local/domain/N/. Paths over
    /// XENSTORE_ABS_PATH_MAX are refused for everybody, as xs_wire.h says they earn an error.
    /// </summary>
    private string Canonicalize(StoreConnection connection, string? path, bool allowSpecial)
    {
        if (path is null || !StorePaths.ValidChars(path) || (path.StartsWith('@') && !allowSpecial))
        {
            throw new StoreErrorException(XsError.EINVAL);
        }

        string name = path.StartsWith('/') || path.StartsWith('@') ? path : connection.ImplicitPath + "/" + path;
        int localPrefix = StorePaths.LocalDomainPrefixLength(name);
        bool valid = !(name.EndsWith('/') && name != StorePaths.Root) &&
            !name.Contains("//", StringComparison.Ordinal) &&
            name.Length <= XsLimits.AbsPathMax &&
            (connection.Privileged || name.Length - localPrefix <= _options.Quotas.PathLength);
        return valid ? name : throw new StoreErrorException(XsError.EINVAL);
    }

    /// <summary>
    /// get_node(): the node if the connection has all of <paramref name="perm"/>; otherwise the errno
    /// (ENOENT or EACCES), disguised as EACCES where the parents do not grant <paramref name="perm"/>,
    /// so that a domain learns nothing about nodes it may not see.
    /// </summary>
    private XsError? TryGetNode(in Request request, string name, PermBits perm, out Node? node)
    {
        node = request.View.Get(name);
        XsError error;
        if (node is null)
        {
            error = XsError.ENOENT;
        }
        else if ((Permissions.For(_database, request.Connection, node) & perm) != perm)
        {
            node = null;
            error = XsError.EACCES;
        }
        else
        {
            return null;
        }

        return ErrnoFromParents(request, name, error, perm);
    }

    private Node GetNode(in Request request, string name, PermBits perm) =>
        TryGetNode(request, name, perm, out Node? node) is XsError error ? throw new StoreErrorException(error) : node!;

    /// <summary>errno_from_parents(): the closest existing ancestor decides whether the real errno may be told.</summary>
    private XsError ErrnoFromParents(in Request request, string name, XsError error, PermBits perm)
    {
        string current = name;
        Node? ancestor = null;
        do
        {
            current = StorePaths.Parent(current);
            ancestor = request.View.Get(current);
        }
        while (ancestor is null && current != StorePaths.Root);

        PermBits parentPerm = ancestor is null ? PermBits.None : Permissions.For(_database, request.Connection, ancestor);
        return (parentPerm & perm) != 0 ? error : XsError.EACCES;
    }

    /// <summary>write_node_raw()'s node-size quota; a failure inside a transaction dooms it, as in xenstored.</summary>
    private void CheckNodeSize(in Request request, Node node)
    {
        if (request.Unprivileged && node.AccountedSize > _options.Quotas.NodeSize)
        {
            request.View.FailTransaction();
            throw new StoreErrorException(XsError.ENOSPC);
        }
    }
}
