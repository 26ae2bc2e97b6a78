namespace XenVmc.XenStore.Server.Store;

/// <summary>Path rules of xenstored (core.c: valid_chars, get_parent, basename; watch.c: is_child).</summary>
internal static class StorePaths
{
    public const string Root = "/";

    /// <summary>strspn over <c>A-Z a-z 0-9 - / _ @</c>; the empty string passes, as in C.</summary>
    public static bool ValidChars(string path)
    {
        foreach (char c in path)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '/' or '_' or '@'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>get_parent(): up to the last '/' after the first character, else "/" (also for "@..." names).</summary>
    public static string Parent(string path)
    {
        int slash = path.Length > 1 ? path.LastIndexOf('/', path.Length - 1, path.Length - 1) : -1;
        return slash > 0 ? path[..slash] : Root;
    }

    /// <summary>The last component; never called for "/".</summary>
    public static string BaseName(string path) => path[(path.LastIndexOf('/') + 1)..];

    public static string Child(string parent, string name) => parent == Root ? "/" + name : parent + "/" + name;

    /// <summary>is_child(): equal or below; everything is below "/" (special names included, as in C).</summary>
    public static bool IsChild(string child, string parent)
    {
        if (parent == Root)
        {
            return true;
        }

        return child.StartsWith(parent, StringComparison.Ordinal) && (child.Length == parent.Length || child[parent.Length] == '/');
    }

    /// <summary>
    /// The node itself and each ancestor, then "/" — the watch paths a non-exact event can match.
    /// "@x/y" yields "@x/y", "@x", "/".
    /// </summary>
    public static IEnumerable<string> SelfAndAncestors(string path)
    {
        string current = path;
        while (current != Root)
        {
            yield return current;
            int slash = current.LastIndexOf('/');
            current = slash > 0 ? current[..slash] : Root;
        }

        yield return Root;
    }

    /// <summary>
    /// Length of a leading <c>/local/domain/&lt;1-5 digits&gt;/</c>, which the path-length quota does not
    /// count (canonicalize's sscanf "/local/domain/%5u/%n"); 0 when there is none.
    /// </summary>
    public static int LocalDomainPrefixLength(string path)
    {
        const string prefix = "/local/domain/";
        if (!path.StartsWith(prefix, StringComparison.Ordinal))
        {
            return 0;
        }

        int i = prefix.Length;
        int digits = 0;
        while (i < path.Length && digits < 5 && char.IsAsciiDigit(path[i]))
        {
            i++;
            digits++;
        }

        return digits > 0 && i < path.Length && path[i] == '/' ? i + 1 : 0;
    }
}
