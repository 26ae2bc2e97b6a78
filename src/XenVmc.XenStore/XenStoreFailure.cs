namespace XenVmc.XenStore;

/// <summary>The error contract of <see cref="XenStoreClient"/>, for the callers' <c>catch ... when</c> filters.</summary>
/// <remarks>
/// A call fails for one of three reasons: the store refused it (<see cref="XenStoreException"/>, an
/// XS_ERROR reply: the connection is fine), the connection is gone
/// (<see cref="XenStoreConnectionException"/>, which includes <see cref="XsProtocolException"/>), or
/// the caller's own token was cancelled (<see cref="OperationCanceledException"/>, which callers
/// judge themselves because only they know whose token it was). Anything else is a bug and propagates.
/// </remarks>
public static class XenStoreFailure
{
    /// <summary>True when the store, not the caller, made the call fail: an XS_ERROR reply or a lost connection.</summary>
    public static bool Is(Exception e) => e is XenStoreException or XenStoreConnectionException;

    /// <summary>True when the connection is gone: only a new client helps.</summary>
    public static bool IsConnectionLoss(Exception e) => e is XenStoreConnectionException;
}
