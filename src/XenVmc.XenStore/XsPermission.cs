using System.Diagnostics.CodeAnalysis;
using XenVmc.XenStore.Protocol;

namespace XenVmc.XenStore;

/// <summary>
/// One entry of a node's ACL, written like <c>r5</c>. The first entry of an ACL names the owner and
/// the access of every domain not listed; later entries grant single domains.
/// </summary>
public readonly record struct XsPermission(XsAccess Access, uint DomainId)
{
    public static XsPermission Parse(string s) =>
        TryParse(s, out XsPermission p) ? p : throw new FormatException($"'{s}' is not a XenStore permission (n|r|w|b followed by a domid)");

    /// <summary>
    /// Parses like xenstored's <c>xenstore_strings_to_perms</c>: a letter, then <c>strtol(..., 0)</c>
    /// over the whole rest (so <c>0x1f</c> and <c>017</c> are accepted, a trailing character is not),
    /// truncated to 32 bits as the C assignment does.
    /// </summary>
    public static bool TryParse([NotNullWhen(true)] string? s, out XsPermission p)
    {
        p = default;
        if (string.IsNullOrEmpty(s))
        {
            return false;
        }

        XsAccess? access = s[0] switch
        {
            'n' => XsAccess.None,
            'r' => XsAccess.Read,
            'w' => XsAccess.Write,
            'b' => XsAccess.Both,
            _ => null,
        };
        if (access is null || !CStrtol.TryParseWhole(s.AsSpan(1), out long id))
        {
            return false;
        }

        p = new XsPermission(access.Value, unchecked((uint)id));
        return true;
    }

    /// <summary>The domid is printed as a signed int, as xenstored's <c>xenstore_perm_to_string</c> does.</summary>
    public override string ToString() => $"{Letter(Access)}{unchecked((int)DomainId)}";

    private static char Letter(XsAccess access) => access switch
    {
        XsAccess.None => 'n',
        XsAccess.Read => 'r',
        XsAccess.Write => 'w',
        XsAccess.Both => 'b',
        _ => throw new ArgumentOutOfRangeException(nameof(access)),
    };
}
