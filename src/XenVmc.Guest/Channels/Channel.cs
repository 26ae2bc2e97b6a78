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

    public Channel(ushort peer, ChannelSide side, long epoch, ChannelControl controlView, ISharedRegion control, ISharedRegion txData, ISharedRegion rxData, IEventPort port)
    {
        Peer = peer;
        Epoch = epoch;
        Side = side;
        Port = port;
        _regions = [control, txData, rxData];
        Control = controlView;
        int txRing = ChannelLayout.TransmitRing(side);
        Producer = new RingProducer(Control, txRing, new MemoryWindow(txData.Address, txData.Length), ChannelNodes.MaxRecordPayload);
        Consumer = new RingConsumer(Control, ChannelLayout.ReceiveRing(side), new MemoryWindow(rxData.Address, rxData.Length), ChannelNodes.MaxRecordPayload);
    }

    public ushort Peer { get; }

    /// <summary>
    /// The <see cref="Linux.ResumeEpoch"/> sampled before the pages were mapped: once the domain
    /// has resumed past it, the peer's pages are not behind our mappings and must not be touched.
    /// </summary>
    public long Epoch { get; }

    public ChannelSide Side { get; }

    public ChannelSide PeerSide => Side == ChannelSide.Low ? ChannelSide.High : ChannelSide.Low;

    public ChannelControl Control { get; }

    public RingProducer Producer { get; }

    public RingConsumer Consumer { get; }

    public IEventPort Port { get; }

    /// <summary>Control page, transmit ring, receive ring (for tests).</summary>
    internal IReadOnlyList<ISharedRegion> Regions => _regions;

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

    /// <summary>Releases the channel: <see cref="Dispose"/>, or <see cref="Abandon"/> once the domain has resumed past <see cref="Epoch"/>.</summary>
    public void Close(Linux.ResumeEpoch resume)
    {
        if (resume.Sample() != Epoch)
        {
            Abandon();
        }
        else
        {
            Dispose();
        }
    }

    /// <summary>
    /// Releases a channel made before this domain was suspended and resumed, without touching
    /// the shared pages or signalling the port: the peer's grants and the event channel belonged
    /// to our old domain, and the peer learns we left from the hypervisor tearing those down.
    /// </summary>
    public void Abandon()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Port.Abandon();
        foreach (var region in _regions)
        {
            region.Abandon();
        }
    }
}
