namespace XenVmc.XenStore.Server;

/// <summary>
/// Limits for unprivileged domains, with C xenstored's defaults (tools/xenstored/domain.c, hard_quotas).
/// Dom0 is never limited.
/// </summary>
public sealed record StoreQuotas
{
    /// <summary>Nodes a domain may own.</summary>
    public int Nodes { get; init; } = 1000;

    /// <summary>
    /// Watches per connection. Like xenstored, the check is "more than this many already" before
    /// adding, so one more than this number can be registered.
    /// </summary>
    public int Watches { get; init; } = 128;

    /// <summary>Open transactions per connection, checked like <see cref="Watches"/>.</summary>
    public int Transactions { get; init; } = 10;

    /// <summary>Nodes one transaction may touch.</summary>
    public int TransactionNodes { get; init; } = 1024;

    /// <summary>Bytes of a node as xenstored accounts them: a 16-byte header, 8 per permission, the value and the child names.</summary>
    public int NodeSize { get; init; } = 2048;

    /// <summary>Entries in one ACL.</summary>
    public int PermissionsPerNode { get; init; } = 5;

    /// <summary>Replies a domain may have queued before the store stops reading its requests.</summary>
    public int OutstandingRequests { get; init; } = 20;

    /// <summary>Path length below /local/domain/N/ (XENSTORE_REL_PATH_MAX).</summary>
    public int PathLength { get; init; } = 2048;
}
