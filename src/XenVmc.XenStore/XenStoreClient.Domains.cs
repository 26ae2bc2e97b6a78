using XenVmc.XenStore.Protocol;

namespace XenVmc.XenStore;

public sealed partial class XenStoreClient
{
    /// <summary>The home of a domain, <c>/local/domain/&lt;domid&gt;</c>, as the server computes it.</summary>
    public async Task<string> GetDomainPathAsync(uint domid, CancellationToken ct = default) =>
        XsReplies.SingleString(await RequestAsync(XsMessageType.GetDomainPath, XsTransaction.None, XsRequests.Domain(domid), null, ct).ConfigureAwait(false));

    /// <summary>Dom0 only: tells xenstored that a domain exists (its ring page and event channel); fires <c>@introduceDomain</c>.</summary>
    public async Task IntroduceAsync(uint domid, ulong mfn, uint eventChannel, CancellationToken ct = default) =>
        XsReplies.Ok(await RequestAsync(XsMessageType.Introduce, XsTransaction.None, XsRequests.Introduce(domid, mfn, eventChannel), null, ct).ConfigureAwait(false));

    /// <summary>Dom0 only: forgets a domain; fires <c>@releaseDomain</c>.</summary>
    public async Task ReleaseAsync(uint domid, CancellationToken ct = default) =>
        XsReplies.Ok(await RequestAsync(XsMessageType.Release, XsTransaction.None, XsRequests.Domain(domid), null, ct).ConfigureAwait(false));

    /// <summary>Dom0 only (xenstored answers EACCES to others).</summary>
    public async Task<bool> IsDomainIntroducedAsync(uint domid, CancellationToken ct = default) =>
        XsReplies.TrueFalse(await RequestAsync(XsMessageType.IsDomainIntroduced, XsTransaction.None, XsRequests.Domain(domid), null, ct).ConfigureAwait(false));
}
