using XenVmc.XenStore.Server.Connections;

namespace XenVmc.XenStore.Server.Domains;

/// <summary>
/// What xenstored's <c>struct domain</c> holds that matters here. A domain exists from its first
/// mention (INTRODUCE, or an ACL naming it) until RELEASE; only an introduced one has a socket.
/// </summary>
internal sealed class DomainState(uint domid, long generation)
{
    public uint DomId { get; } = domid;

    /// <summary>
    /// The store generation when this domain came to exist. ACL entries on nodes older than this name an
    /// earlier domain with the same id and are ignored (domain.c: chk_domain_generation).
    /// </summary>
    public long Generation { get; } = generation;

    public bool Introduced { get; set; }

    /// <summary>SET_TARGET: this domain (a device model stub domain) acts on behalf of the target.</summary>
    public uint? Target { get; set; }

    public SocketListener? Listener { get; set; }

    public List<StoreConnection> Connections { get; } = [];

    /// <summary>Nodes this domain owns (ACL entry 0).</summary>
    public int NodeCount { get; set; }
}
