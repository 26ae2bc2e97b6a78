using XenVmc.Platform;
using XenVmc.Rings;

namespace XenVmc.Guest.Channels;

/// <summary>
/// An established shared-memory channel with one peer: the control page, our transmit ring
/// (we produce), our receive ring (we consume, mapped read-only on the high side), and one
/// event channel port. Owns every mapping and the port; disposing releases them.
/// </summary>
internal sealed class Channel : IDisposable
{
    private readonly ISharedRegion[] _regions;

    public Channel(ushort peer, ChannelSide side, ChannelControl controlView, ISharedRegion control, ISharedRegion txData, ISharedRegion rxData, IEventPort port)
    {
        Peer = peer;
        Side = side;
        Port = port;
        _regions = [control, txData, rxData];
        Control = controlView;
        int txRing = ChannelLayout.TransmitRing(side);
        Producer = new RingProducer(Control, txRing, new MemoryWindow(txData.Address, txData.Length), ChannelNodes.MaxRecordPayload);
        Consumer = new RingConsumer(Control, ChannelLayout.ReceiveRing(side), new MemoryWindow(rxData.Address, rxData.Length), ChannelNodes.MaxRecordPayload);
    }

    public ushort Peer { get; }

    public ChannelSide Side { get; }

    public ChannelSide PeerSide => Side == ChannelSide.Low ? ChannelSide.High : ChannelSide.Low;

    public ChannelControl Control { get; }

    public RingProducer Producer { get; }

    public RingConsumer Consumer { get; }

    public IEventPort Port { get; }

    /// <summary>The mapping of our transmit ring (for the simulated host's hostile test peer).</summary>
    internal ISharedRegion TransmitRegion => _regions[1];

    private int _disposed;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Say goodbye in the shared page first, then let go of the port and the pages.
        Control.SetLive(Side, ChannelLiveness.Gone);
        Port.Notify();
        Port.Dispose();
        foreach (var region in _regions)
        {
            region.Dispose();
        }
    }
}
