using Microsoft.Extensions.Logging;

namespace XenVmc.Guest;

/// <summary>Every message the guest daemon logs. Nothing here is logged per packet.</summary>
internal sealed partial class GuestLog(ILogger logger)
{

    [LoggerMessage(Level = LogLevel.Information, Message = "{Interface} attached (vnet header {VnetHeader}, UDP segmentation {Uso}), MTU {Mtu}")]
    public partial void Started(string @interface, bool vnetHeader, bool uso, int mtu);

    [LoggerMessage(Level = LogLevel.Information, Message = "domain {Domid}: registered in XenStore, following the peer table")]
    public partial void SessionStarted(ushort domid);

    [LoggerMessage(Level = LogLevel.Information, Message = "domain {Domid}: every channel and route torn down: {Reason}")]
    public partial void SessionEnded(ushort domid, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "XenStore key 'domid' holds '{Value}', not a domain id: waiting for the toolstack to write one")]
    public partial void BadDomid(string value);

    [LoggerMessage(Level = LogLevel.Warning, Message = "XenStore not reachable, retrying: {Reason}")]
    public partial void StoreUnavailable(string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "domain id changed from {Old} to {New}: the domain migrated or was restored")]
    public partial void DomainChanged(ushort old, ushort @new);

    [LoggerMessage(Level = LogLevel.Information, Message = "the domain is going down: staying withdrawn until stopped")]
    public partial void Halted();

    [LoggerMessage(Level = LogLevel.Information, Message = "flushed {Count} stale routes with protocol {Protocol}")]
    public partial void FlushedRoutes(int count, byte protocol);

    [LoggerMessage(Level = LogLevel.Information, Message = "peer table: {Count} peers ({Peers})")]
    public partial void PeerTable(int count, string peers);

    [LoggerMessage(Level = LogLevel.Warning, Message = "peer table entry {Path} refused: {Reason}")]
    public partial void PeerEntryRejected(string path, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "channel offer at {Path} refused: {Reason}")]
    public partial void OfferRejected(string path, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "peer {Peer}: channel connected as the {Side} side, route to {Addresses} via {Interface}")]
    public partial void PeerConnected(ushort peer, string side, string addresses, string @interface);

    [LoggerMessage(Level = LogLevel.Information, Message = "peer {Peer}: route removed, channel closed ({Reason})")]
    public partial void PeerDisconnected(ushort peer, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "peer {Peer}: {Reason}; retrying in {Delay} ms")]
    public partial void PeerFailed(ushort peer, string reason, int delay);

    [LoggerMessage(Level = LogLevel.Warning, Message = "peer {Peer}: no grant budget: a channel needs {Pages} pages and {Used} of the {Limit} this domain may grant are taken (gntalloc's limit); the peer stays on the network path until a channel is released")]
    public partial void NoGrantBudget(ushort peer, int pages, int used, int limit);

    [LoggerMessage(Level = LogLevel.Warning, Message = "peer {Peer}: protocol violation, disconnecting: {Reason}")]
    public partial void PeerViolation(ushort peer, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "writing to {Interface} failed: {Reason}")]
    public partial void TunWriteFailed(string @interface, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "net.ipv4.conf.all.rp_filter is {Value}: the kernel applies it on {Interface} too and may drop peers' packets while a channel opens or closes; set it to 0 (XenVMC checks every peer's source address itself)")]
    public partial void ReversePathFilterOn(string @interface, string value);

    [LoggerMessage(Level = LogLevel.Warning, Message = "the guest's firewall has a side door: {Warning}")]
    public partial void FirewallSideDoor(string warning);

    [LoggerMessage(Level = LogLevel.Warning, Message = "status request failed: {Reason}")]
    public partial void StatusFailed(string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "own grant from Dom0: {Grant}")]
    public partial void OwnGrant(string grant);

    [LoggerMessage(Level = LogLevel.Error, Message = "own grant {Grant}: the routing rules could not be set: {Reason}")]
    public partial void OwnGrantFailed(string grant, string reason);
}
