namespace XenVmc.XenStore;

/// <summary>
/// The peer broke the XenStore wire protocol (oversized or truncated frame, unterminated string,
/// unexpected reply). The connection it came on is not trusted any further, so it is a
/// <see cref="XenStoreConnectionException"/>.
/// </summary>
public sealed class XsProtocolException : XenStoreConnectionException
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
