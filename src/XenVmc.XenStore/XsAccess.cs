namespace XenVmc.XenStore;

/// <summary>The access letters of a XenStore permission: n, r, w, b.</summary>
public enum XsAccess
{
    None,
    Read,
    Write,
    Both,
}
