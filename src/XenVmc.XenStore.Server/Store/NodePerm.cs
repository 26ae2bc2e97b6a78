using System.Globalization;

namespace XenVmc.XenStore.Server.Store;

/// <summary>One ACL entry as stored: the domain and its bits (possibly with <see cref="PermBits.Ignore"/>).</summary>
internal readonly record struct NodePerm(uint DomainId, PermBits Bits)
{
    public PermBits Access => Bits & (PermBits.Read | PermBits.Write);

    public bool Ignored => (Bits & PermBits.Ignore) != 0;

    public static NodePerm From(XsPermission p) => new(p.DomainId, p.Access switch
    {
        XsAccess.Read => PermBits.Read,
        XsAccess.Write => PermBits.Write,
        XsAccess.Both => PermBits.Read | PermBits.Write,
        _ => PermBits.None,
    });

    /// <summary>xenstore_perm_to_string: the letter ignores the Ignore flag, the id prints as a signed int.</summary>
    public override string ToString()
    {
        char letter = Access switch
        {
            PermBits.Read => 'r',
            PermBits.Write => 'w',
            PermBits.Read | PermBits.Write => 'b',
            _ => 'n',
        };
        return letter + unchecked((int)DomainId).ToString(CultureInfo.InvariantCulture);
    }
}
