namespace XenVmc.XenStore;

/// <summary>XenStore answered a request with an XS_ERROR reply (or the request could not be sent as it was).</summary>
public sealed class XenStoreException : Exception
{
    internal XenStoreException(XsError error, string errorName, string operation, string? path)
        : base(FormatMessage(errorName, operation, path))
    {
        Error = error;
        ErrorName = errorName;
        Operation = operation;
        Path = path;
    }

    internal XenStoreException(XsError error, string operation, string? path)
        : this(error, error.ToString(), operation, path)
    {
    }

    /// <summary>The error; names this library does not know map to <see cref="XsError.EINVAL"/>.</summary>
    public XsError Error { get; }

    /// <summary>The name exactly as the server sent it.</summary>
    public string ErrorName { get; }

    /// <summary>The request that failed, e.g. <c>READ</c>.</summary>
    public string Operation { get; }

    public string? Path { get; }

    private static string FormatMessage(string errorName, string operation, string? path) =>
        path is null
            ? $"XenStore {operation} failed: {errorName}"
            : $"XenStore {operation} '{path}' failed: {errorName}";
}
