using System.Text;

namespace XenVmc.XenStore.Server.Engine;

/// <summary>
/// Request payload parsing with xenstored's exact rules (core.c: onearg, get_strings;
/// xenstore_count_strings). Bytes map 1:1 to chars (Latin-1) so tokens and values round-trip
/// unchanged; path validation rejects anything outside ASCII anyway.
/// </summary>
internal static class RequestArgs
{
    public static readonly Encoding Bytes = Encoding.Latin1;

    /// <summary>onearg(): exactly one NUL, at the very end; otherwise null (which canonicalize turns into EINVAL).</summary>
    public static string? OneArg(ReadOnlySpan<byte> payload)
    {
        if (payload.IsEmpty || payload.IndexOf((byte)0) != payload.Length - 1)
        {
            return null;
        }

        return Bytes.GetString(payload[..^1]);
    }

    /// <summary>get_strings(): every NUL-terminated string; bytes after the last NUL are ignored.</summary>
    public static List<string> Strings(ReadOnlySpan<byte> payload)
    {
        var result = new List<string>();
        while (true)
        {
            int nul = payload.IndexOf((byte)0);
            if (nul < 0)
            {
                return result;
            }

            result.Add(Bytes.GetString(payload[..nul]));
            payload = payload[(nul + 1)..];
        }
    }

    /// <summary>xenstore_count_strings(): the number of NULs.</summary>
    public static int CountStrings(ReadOnlySpan<byte> payload) => payload.Count((byte)0);

    /// <summary>NUL-terminated strings, the reply form of DIRECTORY and GET_PERMS.</summary>
    public static byte[] Join(IEnumerable<string> strings)
    {
        var bytes = new List<byte>();
        foreach (string s in strings)
        {
            bytes.AddRange(Bytes.GetBytes(s));
            bytes.Add(0);
        }

        return [.. bytes];
    }
}
