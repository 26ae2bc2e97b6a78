using System.Globalization;
using System.Text;

namespace XenVmc.XenStore.Protocol;

/// <summary>Request payloads as libxenstore (tools/libs/store/xs.c) lays them out.</summary>
internal static class XsRequests
{
    private static readonly byte[] EmptyString = [0];
    private static readonly byte[] Commit = "T\0"u8.ToArray();
    private static readonly byte[] Abort = "F\0"u8.ToArray();

    /// <summary>READ, MKDIR, RM, DIRECTORY, GET_PERMS: <c>path\0</c>.</summary>
    public static byte[] Path(string path) => Strings(path);

    /// <summary>WRITE: <c>path\0</c> followed by the value, which is not NUL-terminated.</summary>
    public static byte[] Write(string path, ReadOnlySpan<byte> value)
    {
        CheckString(path, nameof(path));
        int pathBytes = Encoding.UTF8.GetByteCount(path);
        byte[] payload = new byte[pathBytes + 1 + value.Length];
        Encoding.UTF8.GetBytes(path, payload);
        value.CopyTo(payload.AsSpan(pathBytes + 1));
        return payload;
    }

    /// <summary>SET_PERMS: <c>path\0perm\0perm\0…</c>.</summary>
    public static byte[] SetPermissions(string path, IReadOnlyList<XsPermission> permissions)
    {
        if (permissions.Count == 0)
        {
            throw new ArgumentException("a XenStore ACL needs at least the owner entry", nameof(permissions));
        }

        var parts = new string[permissions.Count + 1];
        parts[0] = path;
        for (int i = 0; i < permissions.Count; i++)
        {
            parts[i + 1] = permissions[i].ToString();
        }

        return Strings(parts);
    }

    /// <summary>WATCH and UNWATCH: <c>path\0token\0</c> (no depth: that needs a server feature we do not ask for).</summary>
    public static byte[] Watch(string path, string token) => Strings(path, token);

    /// <summary>TRANSACTION_START and RESET_WATCHES carry one empty string.</summary>
    public static byte[] Empty() => EmptyString;

    public static byte[] TransactionEnd(bool commit) => commit ? Commit : Abort;

    /// <summary>INTRODUCE: <c>domid\0mfn\0port\0</c>, all decimal.</summary>
    public static byte[] Introduce(uint domid, ulong mfn, uint eventChannel) =>
        Strings(Decimal(domid), mfn.ToString(CultureInfo.InvariantCulture), Decimal(eventChannel));

    /// <summary>RELEASE, GET_DOMAIN_PATH, IS_DOMAIN_INTRODUCED, RESUME: <c>domid\0</c>.</summary>
    public static byte[] Domain(uint domid) => Strings(Decimal(domid));

    /// <summary>DIRECTORY_PART: <c>path\0offset\0</c>, the offset in bytes of the child list.</summary>
    public static byte[] DirectoryPart(string path, int offset) => Strings(path, Decimal((uint)offset));

    public static byte[] Strings(params string[] strings)
    {
        int total = 0;
        foreach (string s in strings)
        {
            CheckString(s, nameof(strings));
            total += Encoding.UTF8.GetByteCount(s) + 1;
        }

        byte[] payload = new byte[total];
        int offset = 0;
        foreach (string s in strings)
        {
            offset += Encoding.UTF8.GetBytes(s, payload.AsSpan(offset));
            payload[offset++] = 0;
        }

        return payload;
    }

    private static string Decimal(uint value) => value.ToString(CultureInfo.InvariantCulture);

    private static void CheckString(string s, string name)
    {
        ArgumentNullException.ThrowIfNull(s, name);
        if (s.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("XenStore strings cannot contain NUL", name);
        }
    }
}
