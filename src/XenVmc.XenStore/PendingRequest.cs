using XenVmc.XenStore.Protocol;

namespace XenVmc.XenStore;

/// <summary>A reply as the reader loop hands it over; the payload array is owned by the receiver.</summary>
internal readonly record struct XsReply(XsMessageType Type, byte[] Payload);

/// <summary>One request waiting for its reply; continuations never run on the reader loop.</summary>
internal sealed class PendingRequest : TaskCompletionSource<XsReply>
{
    public PendingRequest()
        : base(TaskCreationOptions.RunContinuationsAsynchronously)
    {
    }
}
