using XenVmc.Packets;
using XenVmc.Rings;

namespace XenVmc.Guest.Channels;

/// <summary>
/// The leaves of a channel offer under <c>/local/domain/&lt;low&gt;/data/xenvmc/channel/&lt;high&gt;/</c>,
/// and the higher domid's answer under its own <c>data/xenvmc/channel/&lt;low&gt;/state</c>.
/// Each leaf is readable by the peer only (<c>n&lt;owner&gt; r&lt;peer&gt;</c>).
/// </summary>
internal static class ChannelNodes
{
    public const string ControlRef = "control-ref";
    public const string Ring0Refs = "ring0-refs";
    public const string Ring1Refs = "ring1-refs";
    public const string EventChannel = "event-channel";
    public const string State = "state";

    /// <summary>
    /// The largest record payload either side writes or accepts: one frame
    /// (<see cref="PacketLimits.MaxFrameLength"/>), rounded up to the ring's record alignment.
    /// </summary>
    public const int MaxRecordPayload = (PacketLimits.MaxFrameLength + ChannelLayout.RecordAlignment - 1) & ~(ChannelLayout.RecordAlignment - 1);
}
