using System.Collections.Frozen;
using System.Text;

namespace XenVmc.XenStore.Protocol;

/// <summary>Maps <see cref="XsError"/> to and from the NUL-terminated names on the wire.</summary>
internal static class XsErrorNames
{
    private static readonly byte[][] Payloads = Enum.GetValues<XsError>()
        .Select(e => Encoding.ASCII.GetBytes(e.ToString() + "\0"))
        .ToArray();

    private static readonly FrozenDictionary<string, XsError> ByName = Enum.GetValues<XsError>()
        .ToFrozenDictionary(e => e.ToString(), StringComparer.Ordinal);

    /// <summary>The XS_ERROR payload: the name and its NUL.</summary>
    public static ReadOnlySpan<byte> Payload(XsError error) => Payloads[(int)error];

    /// <summary>Unknown names mean EINVAL, as libxenstore's get_error() does.</summary>
    public static XsError Parse(string name) => ByName.TryGetValue(name, out XsError e) ? e : XsError.EINVAL;
}
