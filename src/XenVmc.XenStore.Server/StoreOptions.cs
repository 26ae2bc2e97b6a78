namespace XenVmc.XenStore.Server;

/// <summary>Where the simulated xenstored listens and how it limits its clients.</summary>
public sealed record StoreOptions
{
    /// <summary>The Dom0 socket (what <c>XENSTORED_PATH</c> points the tools at).</summary>
    public required string SocketPath { get; init; }

    private readonly string? _domainSocketDirectory;

    /// <summary>Where domain N's socket <c>&lt;dir&gt;/N</c> appears on XS_INTRODUCE; default <c>domains</c> beside <see cref="SocketPath"/>.</summary>
    public string DomainSocketDirectory
    {
        get => _domainSocketDirectory ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(SocketPath)) ?? "/", "domains");
        init => _domainSocketDirectory = value;
    }

    public StoreQuotas Quotas { get; init; } = new();

    /// <summary>
    /// Bytes of replies and events a connection may have waiting for its reader. A client that stops
    /// reading is disconnected when it is exceeded, so it cannot hold memory or stall anybody else.
    /// </summary>
    public int OutputQueueBytes { get; init; } = 8 * 1024 * 1024;
}
