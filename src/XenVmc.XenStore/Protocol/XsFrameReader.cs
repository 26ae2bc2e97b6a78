using System.Text;

namespace XenVmc.XenStore.Protocol;

/// <summary>
/// Reads the NUL-terminated strings a payload is made of. Short or unterminated input throws
/// <see cref="XsProtocolException"/>: a payload from the peer is never trusted to be well formed.
/// </summary>
internal ref struct XsFrameReader
{
    private readonly ReadOnlySpan<byte> _payload;
    private int _position;

    public XsFrameReader(ReadOnlySpan<byte> payload)
    {
        _payload = payload;
        _position = 0;
    }

    public readonly bool End => _position == _payload.Length;

    public readonly int Remaining => _payload.Length - _position;

    /// <summary>The bytes up to the next NUL, consuming the NUL.</summary>
    public ReadOnlySpan<byte> ReadCString()
    {
        ReadOnlySpan<byte> rest = _payload[_position..];
        int nul = rest.IndexOf((byte)0);
        if (nul < 0)
        {
            throw new XsProtocolException($"XenStore payload string at offset {_position} is not NUL-terminated");
        }

        _position += nul + 1;
        return rest[..nul];
    }

    public string ReadString() => Decode(ReadCString());

    /// <summary>Everything not read yet.</summary>
    public ReadOnlySpan<byte> ReadRest()
    {
        ReadOnlySpan<byte> rest = _payload[_position..];
        _position = _payload.Length;
        return rest;
    }

    public readonly void ExpectEnd()
    {
        if (!End)
        {
            throw new XsProtocolException($"XenStore payload has {Remaining} unexpected trailing bytes");
        }
    }

    /// <summary>Strings that are not valid UTF-8 throw rather than turning into U+FFFD silently.</summary>
    public static string Decode(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return Strict.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new XsProtocolException("XenStore payload string is not valid UTF-8", e);
        }
    }

    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
