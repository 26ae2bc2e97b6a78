namespace XenVmc.Guest.Channels;

/// <summary>A peer broke the channel protocol; the channel with it is torn down, never trusted again.</summary>
internal sealed class PeerProtocolException(ushort peer, string reason) : Exception($"peer domain {peer}: {reason}")
{
    public ushort Peer { get; } = peer;
}
