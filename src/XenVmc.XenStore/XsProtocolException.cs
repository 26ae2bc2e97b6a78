namespace XenVmc.XenStore;

/// <summary>
/// The peer broke the XenStore wire protocol (oversized or truncated frame, unterminated string,
/// unexpected reply). The connection it came on is not trusted any further.
/// </summary>
public sealed class XsProtocolException : IOException
{
    public XsProtocolException(string message)
        : base(message)
    {
    }

    public XsProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
