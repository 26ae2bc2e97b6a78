namespace XenVmc.XenStore.Server.Store;

/// <summary>
/// One node. Immutable: a change makes a new instance, so a transaction's snapshot (an immutable
/// dictionary of these) never sees later writes. The arrays are never mutated after construction.
/// </summary>
/// <param name="Value">The data, binary, not NUL-terminated.</param>
/// <param name="Perms">The ACL; entry 0 is the owner and the default access.</param>
/// <param name="Children">Child names in creation order (xenstored appends and lists in that order).</param>
/// <param name="Generation">Changes on every modification; transactions detect conflicts with it.</param>
internal sealed record Node(byte[] Value, NodePerm[] Perms, string[] Children, long Generation)
{
    /// <summary>The size of <c>struct node_hdr</c> in xenstored's database, counted in the node-size quota.</summary>
    public const int HeaderBytes = 16;

    /// <summary>Each <c>struct xs_permissions</c> (u32 id + u32 perms).</summary>
    public const int PermBytes = 8;

    /// <summary>Bytes of the NUL-separated child list xenstored keeps (childlen).</summary>
    /// <remarks>Computed, not stored: a stored value would be copied unchanged by <c>with</c>.</remarks>
    public int ChildBytes => Children.Sum(c => c.Length + 1);

    public uint Owner => Perms[0].DomainId;

    /// <summary>calc_node_acc_size(): what the node-size quota is checked against.</summary>
    public int AccountedSize => HeaderBytes + (PermBytes * Perms.Length) + Value.Length + ChildBytes;

    public Node WithChildAdded(string name, long generation) => this with { Children = [.. Children, name], Generation = generation };

    public Node WithChildRemoved(string name, long generation)
    {
        int index = Array.IndexOf(Children, name);
        string[] children = index < 0 ? Children : [.. Children[..index], .. Children[(index + 1)..]];
        return this with { Children = children, Generation = generation };
    }
}
