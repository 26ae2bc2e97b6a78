using System.Globalization;
using XenVmc.XenStore.Protocol;
using XenVmc.XenStore.Server.Store;

namespace XenVmc.XenStore.Server.Engine;

internal sealed partial class StoreEngine
{
    private void Read(in Request request)
    {
        string name = Canonicalize(request.Connection, RequestArgs.OneArg(request.Payload), allowSpecial: false);
        request.Reply(GetNode(request, name, PermBits.Read).Value);
    }

    /// <summary>do_write(): <c>path\0value</c>; a missing node is created with any missing parents.</summary>
    private void Write(in Request request)
    {
        ReadOnlySpan<byte> payload = request.Payload;
        int nul = payload.IndexOf((byte)0);
        if (nul < 0)
        {
            throw new StoreErrorException(XsError.EINVAL);
        }

        string name = Canonicalize(request.Connection, RequestArgs.Bytes.GetString(payload[..nul]), allowSpecial: false);
        byte[] value = payload[(nul + 1)..].ToArray();
        Node node;
        if (TryGetNode(request, name, PermBits.Write, out Node? existing) is XsError error)
        {
            if (error != XsError.ENOENT)
            {
                throw new StoreErrorException(error);
            }

            node = CreateNode(request, name, value);
        }
        else
        {
            Node updated = existing! with { Value = value };
            CheckNodeSize(request, updated);
            node = request.View.Put(name, updated);
        }

        request.View.Fire(name, exact: false, node, oldPerms: null);
        request.Ok();
    }

    /// <summary>do_mkdir(): an existing node is fine and fires nothing.</summary>
    private void Mkdir(in Request request)
    {
        string name = Canonicalize(request.Connection, RequestArgs.OneArg(request.Payload), allowSpecial: false);
        if (TryGetNode(request, name, PermBits.Write, out _) is XsError error)
        {
            if (error != XsError.ENOENT)
            {
                throw new StoreErrorException(error);
            }

            Node node = CreateNode(request, name, []);
            request.View.Fire(name, exact: false, node, oldPerms: null);
        }

        request.Ok();
    }

    private void Directory(in Request request)
    {
        string name = Canonicalize(request.Connection, RequestArgs.OneArg(request.Payload), allowSpecial: false);
        request.Reply(RequestArgs.Join(GetNode(request, name, PermBits.Read).Children));
    }

    /// <summary>
    /// send_directory_part(): <c>path\0offset\0</c> → <c>generation\0</c> and as many child names from
    /// byte <c>offset</c> of the child list as fit; an extra NUL when the list is complete.
    /// </summary>
    private void DirectoryPart(in Request request)
    {
        if (RequestArgs.CountStrings(request.Payload) != 2)
        {
            throw new StoreErrorException(XsError.EINVAL);
        }

        List<string> args = RequestArgs.Strings(request.Payload);
        string name = Canonicalize(request.Connection, args[0], allowSpecial: false);
        Node node = GetNode(request, name, PermBits.Read);
        uint offset = unchecked((uint)CStrtol.Atoi(args[1]));

        byte[] children = RequestArgs.Join(node.Children);
        byte[] generation = RequestArgs.Bytes.GetBytes(node.Generation.ToString(CultureInfo.InvariantCulture) + "\0");
        var reply = new List<byte>(generation);
        if (offset >= children.Length)
        {
            reply.Add(0);
            request.Reply(reply.ToArray());
            return;
        }

        int start = (int)offset;
        int length = 0;
        int maxLength = XsLimits.PayloadMax - generation.Length - 1;
        while (true)
        {
            int childLength = Array.IndexOf(children, (byte)0, start + length) - (start + length);
            if (length + childLength >= maxLength)
            {
                break;
            }

            length += childLength + 1;
            if (start + length == children.Length)
            {
                break;
            }
        }

        reply.AddRange(children.AsSpan(start, length));
        if (start + length == children.Length)
        {
            reply.Add(0);
        }

        request.Reply(reply.ToArray());
    }

    /// <summary>
    /// construct_node() + create_node(): walk up to the closest existing ancestor, then create each
    /// missing node below it with the parent's ACL (an unprivileged creator becomes the owner), within
    /// the node-count and node-size quotas. Nothing is written unless everything fits.
    /// </summary>
    private Node CreateNode(in Request request, string name, byte[] value)
    {
        var missing = new List<string>();
        string current = name;
        Node? parent;
        while (true)
        {
            missing.Add(current);
            current = StorePaths.Parent(current);
            parent = request.View.Get(current);
            if (parent is not null)
            {
                break;
            }

            if (current == StorePaths.Root)
            {
                throw new StoreErrorException(XsError.ENOENT);
            }
        }

        missing.Reverse();
        string parentName = current;
        uint creator = request.Connection.DomId;
        if (request.Unprivileged && request.View.NodeCount(creator) + missing.Count > _options.Quotas.Nodes)
        {
            throw new StoreErrorException(XsError.ENOSPC);
        }

        // Build everything first so quota failures leave the tree untouched.
        var nodes = new Node[missing.Count];
        NodePerm[] perms = parent.Perms;
        for (int i = 0; i < missing.Count; i++)
        {
            if (request.Unprivileged)
            {
                perms = (NodePerm[])perms.Clone();
                perms[0] = perms[0] with { DomainId = creator };
            }

            string[] children = i + 1 < missing.Count ? [StorePaths.BaseName(missing[i + 1])] : [];
            nodes[i] = new Node(i + 1 == missing.Count ? value : [], perms, children, 0);
            CheckNodeSize(request, nodes[i]);
        }

        Node updatedParent = parent.WithChildAdded(StorePaths.BaseName(missing[0]), 0);
        CheckNodeSize(request, updatedParent);

        if (request.Transaction is StoreTransaction transaction)
        {
            transaction.NodeCreated = true;
        }

        request.View.Put(parentName, updatedParent);
        Node leaf = null!;
        for (int i = 0; i < missing.Count; i++)
        {
            leaf = request.View.Put(missing[i], nodes[i]);
            request.View.AddNodeCount(nodes[i].Owner, 1);
        }

        return leaf;
    }
}
