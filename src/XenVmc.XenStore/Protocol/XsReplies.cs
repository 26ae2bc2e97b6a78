using System.Globalization;

namespace XenVmc.XenStore.Protocol;

/// <summary>
/// Decodes reply payloads. Everything here distrusts the server: a payload that does not have the
/// shape its type promises throws <see cref="XsProtocolException"/>.
/// </summary>
internal static class XsReplies
{
    /// <summary>WRITE, MKDIR, RM, SET_PERMS, WATCH, UNWATCH, TRANSACTION_END, INTRODUCE, RELEASE, RESET_WATCHES.</summary>
    public static void Ok(ReadOnlySpan<byte> payload)
    {
        if (!payload.SequenceEqual("OK\0"u8))
        {
            throw new XsProtocolException($"XenStore acknowledgement is not \"OK\\0\" ({payload.Length} bytes)");
        }
    }

    /// <summary>DIRECTORY and GET_PERMS: zero or more strings, each NUL-terminated.</summary>
    public static List<string> Strings(ReadOnlySpan<byte> payload)
    {
        var result = new List<string>();
        var reader = new XsFrameReader(payload);
        while (!reader.End)
        {
            result.Add(reader.ReadString());
        }

        return result;
    }

    public static List<XsPermission> Permissions(ReadOnlySpan<byte> payload)
    {
        List<string> strings = Strings(payload);
        var result = new List<XsPermission>(strings.Count);
        foreach (string s in strings)
        {
            if (!XsPermission.TryParse(s, out XsPermission p))
            {
                throw new XsProtocolException($"XenStore sent an invalid permission '{s}'");
            }

            result.Add(p);
        }

        if (result.Count == 0)
        {
            throw new XsProtocolException("XenStore sent an empty ACL");
        }

        return result;
    }

    /// <summary>One NUL-terminated string and nothing else (GET_DOMAIN_PATH).</summary>
    public static string SingleString(ReadOnlySpan<byte> payload)
    {
        var reader = new XsFrameReader(payload);
        string s = reader.ReadString();
        reader.ExpectEnd();
        return s;
    }

    /// <summary>TRANSACTION_START: the id in decimal, NUL-terminated. Id 0 would mean "no transaction" and is refused.</summary>
    public static uint TransactionId(ReadOnlySpan<byte> payload)
    {
        string s = SingleString(payload);
        if (s.Length == 0 || !s.All(char.IsAsciiDigit) ||
            !uint.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out uint id) || id == 0)
        {
            throw new XsProtocolException($"XenStore sent an invalid transaction id '{s}'");
        }

        return id;
    }

    /// <summary>IS_DOMAIN_INTRODUCED: <c>T\0</c> or <c>F\0</c>.</summary>
    public static bool TrueFalse(ReadOnlySpan<byte> payload)
    {
        if (payload.SequenceEqual("T\0"u8))
        {
            return true;
        }

        if (payload.SequenceEqual("F\0"u8))
        {
            return false;
        }

        throw new XsProtocolException("XenStore IS_DOMAIN_INTRODUCED reply is neither \"T\\0\" nor \"F\\0\"");
    }

    /// <summary>XS_ERROR: the errno name, NUL-terminated.</summary>
    public static (XsError Error, string Name) Error(ReadOnlySpan<byte> payload)
    {
        string name = SingleString(payload);
        return (XsErrorNames.Parse(name), name);
    }

    /// <summary>
    /// WATCH_EVENT: <c>path\0token\0</c>. Only type and length of the header are meaningful
    /// (the xenbus device leaves req_id and tx_id unset).
    /// </summary>
    public static (string Path, string Token) WatchEvent(ReadOnlySpan<byte> payload)
    {
        var reader = new XsFrameReader(payload);
        string path = reader.ReadString();
        string token = reader.ReadString();
        reader.ExpectEnd();
        return (path, token);
    }

    /// <summary>
    /// DIRECTORY_PART: <c>generation\0</c>, then child names each NUL-terminated; an extra empty
    /// string marks the end of the list.
    /// </summary>
    public static (string Generation, List<string> Names, int ConsumedBytes, bool Complete) DirectoryPart(ReadOnlySpan<byte> payload)
    {
        var reader = new XsFrameReader(payload);
        string generation = reader.ReadString();
        int start = payload.Length - reader.Remaining;
        var names = new List<string>();
        bool complete = false;
        while (!reader.End)
        {
            string name = reader.ReadString();
            if (name.Length == 0)
            {
                complete = true;
                reader.ExpectEnd();
                break;
            }

            names.Add(name);
        }

        int consumed = payload.Length - start - (complete ? 1 : 0);
        return (generation, names, consumed, complete);
    }
}
