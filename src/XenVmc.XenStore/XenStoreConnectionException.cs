namespace XenVmc.XenStore;

/// <summary>
/// The client has no working connection to XenStore: it could not connect, the server closed the
/// connection, the transport failed, the server broke the protocol (<see cref="XsProtocolException"/>),
/// or the client was disposed. Every call on that client fails this way from then on; the cure is a
/// new connection, never a retry on this one.
/// </summary>
/// <remarks>
/// An <see cref="IOException"/>, so code that treats any I/O failure alike keeps working; code about
/// XenStore catches this type (or asks <see cref="XenStoreFailure.Is"/>), so a caller bug such as an
/// <see cref="ArgumentException"/> or an <see cref="InvalidOperationException"/> is never mistaken
/// for the store going away.
/// </remarks>
public class XenStoreConnectionException : IOException
{
    public XenStoreConnectionException(string message)
        : base(message)
    {
    }

    public XenStoreConnectionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
