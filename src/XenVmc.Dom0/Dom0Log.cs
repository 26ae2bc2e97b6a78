using Microsoft.Extensions.Logging;

namespace XenVmc.Dom0;

internal sealed partial class Dom0Log(ILogger logger)
{
    [LoggerMessage(Level = LogLevel.Information, Message = "xenvmc-dom0 serving: {Guests} guests with vifs")]
    public partial void Started(int guests);

    [LoggerMessage(Level = LogLevel.Information, Message = "domain {Domid}: peer table now {Peers}; own grant {Self}")]
    public partial void TableChanged(ushort domid, string peers, string self);

    [LoggerMessage(Level = LogLevel.Warning, Message = "network withheld: {Reason}")]
    public partial void GrantWithheld(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "vif backend {Path} ignored: {Reason}")]
    public partial void VifRejected(string path, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "reconcile failed, retrying: {Reason}")]
    public partial void ReconcileFailed(string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dom0 packet filter read: {Nft}; bridge-nf-call iptables={Ip} ip6tables={Ip6} arptables={Arp}; not analysed: {Unanalysed}")]
    public partial void FilterRead(string nft, bool ip, bool ip6, bool arp, string unanalysed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "domains {A} and {B} stay on the bridge, filtered in Dom0 by {Reason}")]
    public partial void PairHeld(ushort a, ushort b, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "domains {A} and {B} are no longer filtered in Dom0")]
    public partial void PairReleased(ushort a, ushort b);
}
