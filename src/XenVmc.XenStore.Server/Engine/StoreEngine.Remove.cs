using XenVmc.XenStore.Server.Store;

namespace XenVmc.XenStore.Server.Engine;

internal sealed partial class StoreEngine
{
    /// <summary>do_rm(): a missing node is fine when its parent exists; "/" cannot go.</summary>
    private void Rm(in Request request)
    {
        string name = Canonicalize(request.Connection, RequestArgs.OneArg(request.Payload), allowSpecial: false);
        if (TryGetNode(request, name, PermBits.Write, out _) is XsError error)
        {
            if (error == XsError.ENOENT && request.View.Get(StorePaths.Parent(name)) is not null)
            {
                request.Ok();
                return;
            }

            throw new StoreErrorException(error);
        }

        if (name == StorePaths.Root)
        {
            throw new StoreErrorException(XsError.EINVAL);
        }

        RemoveNode(request.View, name);
        request.Ok();
    }

    /// <summary>
    /// rm_node(): deletes the subtree children first; each node fires its watches while its ACL can
    /// still be seen — the removed root for watches on it or above, every node below only for watches
    /// exactly on it (so a watcher below learns its own path went away). The parent loses the child.
    /// </summary>
    private static void RemoveNode(NodeView view, string name)
    {
        string parentName = StorePaths.Parent(name);
        if (view.Get(parentName) is null)
        {
            throw new StoreErrorException(XsError.EINVAL);
        }

        RemoveSubtree(view, name, name);
        Node parent = view.Get(parentName)!;
        view.Put(parentName, parent.WithChildRemoved(StorePaths.BaseName(name), 0));
    }

    private static void RemoveSubtree(NodeView view, string root, string path)
    {
        Node? node = view.Get(path);
        if (node is null)
        {
            return;
        }

        foreach (string child in node.Children)
        {
            RemoveSubtree(view, root, StorePaths.Child(path, child));
        }

        view.AddNodeCount(node.Owner, -1);
        view.Delete(path);
        view.Fire(path, exact: path != root, node, oldPerms: null);
    }
}
