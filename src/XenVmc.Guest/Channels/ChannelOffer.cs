using System.Globalization;
using XenVmc.Platform;
using XenVmc.Platform.Layout;
using XenVmc.Rings;
using XenVmc.XenStore;

namespace XenVmc.Guest.Channels;

/// <summary>
/// The lower domid's half of the handshake (libvchan's server): grant the control page and the
/// two rings, bind an unbound port for the peer, publish the references readable by the peer
/// only, then wait for the peer to say <c>connected</c> and to show itself live in the page.
/// </summary>
internal static class ChannelOffer
{
    public static async Task<Channel> OfferAsync(GuestContext context, ushort peer, CancellationToken ct)
    {
        var resources = new List<IDisposable>();
        try
        {
            long epoch = context.Resume.Sample();
            int ringPages = context.Options.RingBytes / 4096;
            int log2 = System.Numerics.BitOperations.Log2((uint)context.Options.RingBytes);
            var port = context.Platform.Events.BindUnbound(peer);
            resources.Add(port);
            var control = context.Platform.Grants.Share(peer, 1, writable: true);
            resources.Add(control);

            // Ring 0 (low → high) is only read by the peer: grant it read-only.
            var lowToHigh = context.Platform.Grants.Share(peer, ringPages, writable: false);
            resources.Add(lowToHigh);
            var highToLow = context.Platform.Grants.Share(peer, ringPages, writable: true);
            resources.Add(highToLow);

            // Initialize marks us connected and the peer not yet connected, as libvchan's server does.
            var view = ChannelControl.Initialize(new MemoryWindow(control.Address, control.Length), log2, log2);
            control.ClearOnUnmap(ChannelLayout.LiveOffset(ChannelSide.Low));

            await PublishAsync(context, peer, control, lowToHigh, highToLow, port, ct).ConfigureAwait(false);
            var channel = new Channel(peer, ChannelSide.Low, epoch, view, control, lowToHigh, highToLow, port);
            resources.Clear();
            try
            {
                await WaitForPeerAsync(context, channel, ct).ConfigureAwait(false);
                return channel;
            }
            catch
            {
                channel.Close(context.Resume);
                throw;
            }
        }
        catch
        {
            for (int i = resources.Count - 1; i >= 0; i--)
            {
                resources[i].Dispose();
            }

            throw;
        }
    }

    private static async Task PublishAsync(GuestContext context, ushort peer, IGrantedRegion control, IGrantedRegion lowToHigh, IGrantedRegion highToLow, IEventPort port, CancellationToken ct)
    {
        string dir = XenVmcPaths.Channel(context.Domid, peer);
        XsPermission[] perms = [new(XsAccess.None, context.Domid), new(XsAccess.Read, peer)];
        (string Leaf, string Value)[] leaves =
        [
            (ChannelNodes.ControlRef, control.References[0].ToString(CultureInfo.InvariantCulture)),
            (ChannelNodes.Ring0Refs, Join(lowToHigh.References)),
            (ChannelNodes.Ring1Refs, Join(highToLow.References)),
            (ChannelNodes.EventChannel, port.LocalPort.ToString(CultureInfo.InvariantCulture)),
            (ChannelNodes.State, XenVmcPaths.Offered),
        ];

        await context.Store.TransactAsync(async tx =>
        {
            await context.RemoveAsync(dir, tx, ct).ConfigureAwait(false);
            foreach (var (leaf, value) in leaves)
            {
                await context.Store.WriteAsync($"{dir}/{leaf}", value, tx, ct).ConfigureAwait(false);
                await context.Store.SetPermissionsAsync($"{dir}/{leaf}", perms, tx, ct).ConfigureAwait(false);
            }
        }, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// The peer is connected when its state node says so and its live byte in the page we just
    /// created is 1: an answer left over from an earlier channel cannot pass the second test.
    /// </summary>
    private static async Task WaitForPeerAsync(GuestContext context, Channel channel, CancellationToken ct)
    {
        string answer = XenVmcPaths.Channel(channel.Peer, context.Domid) + "/" + ChannelNodes.State;
        await using var watch = await context.Store.WatchAsync(answer, context.NextToken(), ct).ConfigureAwait(false);
        while (true)
        {
            if (channel.Control.GetLive(ChannelSide.High) == ChannelLiveness.Connected &&
                await context.TryReadAsync(answer, ct).ConfigureAwait(false) == XenVmcPaths.Connected)
            {
                return;
            }

            await context.WaitForEventAsync(watch, TimeSpan.FromMilliseconds(250), ct).ConfigureAwait(false);
        }
    }

    private static string Join(IReadOnlyList<uint> refs) => string.Join(' ', refs.Select(r => r.ToString(CultureInfo.InvariantCulture)));
}
