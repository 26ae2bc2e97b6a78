using System.Globalization;
using XenVmc.Platform;
using XenVmc.Platform.Layout;
using XenVmc.Rings;
using XenVmc.XenStore;

namespace XenVmc.Guest.Channels;

/// <summary>
/// The higher domid's half of the handshake (libvchan's client): wait for the lower domid's
/// offer, check every value in it, map the pages (the receive ring read-only), bind to the
/// offered port, show ourselves live, and answer <c>connected</c>.
/// </summary>
internal static class ChannelAccept
{
    public static async Task<Channel> AcceptAsync(GuestContext context, ushort peer, CancellationToken ct)
    {
        string offerDir = XenVmcPaths.Channel(peer, context.Domid);
        string offerState = offerDir + "/" + ChannelNodes.State;
        await using var watch = await context.Store.WatchAsync(offerState, context.NextToken(), ct).ConfigureAwait(false);
        string? lastRefused = null;
        while (true)
        {
            if (await context.TryReadAsync(offerState, ct).ConfigureAwait(false) == XenVmcPaths.Offered)
            {
                var (offer, text) = await ReadOfferAsync(context, offerDir, ct).ConfigureAwait(false);
                if (offer is null && text != lastRefused)
                {
                    // Once per distinct bad offer: a peer rewriting garbage cannot flood the log.
                    lastRefused = text;
                    context.Log.OfferRejected(offerDir, $"a reference or the port is missing or not a number ({text})");
                }

                if (offer is not null)
                {
                    var channel = Map(context, peer, offer);
                    try
                    {
                        await AnswerAsync(context, peer, ct).ConfigureAwait(false);
                        channel.Port.Notify();
                        return channel;
                    }
                    catch
                    {
                        channel.Close(context.Resume);
                        throw;
                    }
                }
            }

            await context.WaitForEventAsync(watch, TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
        }
    }

    private sealed record Offer(uint ControlRef, uint[] Ring0Refs, uint[] Ring1Refs, uint Port);

    /// <summary>Reads the offer; a value that does not parse is the peer's fault: null, with the text read for the log.</summary>
    private static async Task<(Offer? Offer, string Text)> ReadOfferAsync(GuestContext context, string dir, CancellationToken ct)
    {
        string? controlRef = await context.TryReadAsync(dir + "/" + ChannelNodes.ControlRef, ct).ConfigureAwait(false);
        string? ring0 = await context.TryReadAsync(dir + "/" + ChannelNodes.Ring0Refs, ct).ConfigureAwait(false);
        string? ring1 = await context.TryReadAsync(dir + "/" + ChannelNodes.Ring1Refs, ct).ConfigureAwait(false);
        string? port = await context.TryReadAsync(dir + "/" + ChannelNodes.EventChannel, ct).ConfigureAwait(false);
        int maxPages = GuestOptions.MaxRingBytes / 4096;
        if (!TryParseU32(controlRef, out uint control) || !TryParseRefs(ring0, maxPages, out var refs0) ||
            !TryParseRefs(ring1, maxPages, out var refs1) || !TryParseU32(port, out uint evtchn))
        {
            string text = $"control-ref={Shorten(controlRef)} ring0-refs={Shorten(ring0)} ring1-refs={Shorten(ring1)} event-channel={Shorten(port)}";
            return (null, text);
        }

        return (new Offer(control, refs0, refs1, evtchn), "");
    }

    private static string Shorten(string? value) => value is null ? "(none)" : value.Length <= 40 ? value : value[..40] + "…";

    private static Channel Map(GuestContext context, ushort peer, Offer offer)
    {
        var resources = new List<IDisposable>();
        long epoch = context.Resume.Sample();
        try
        {
            var control = context.Platform.Grants.Map(peer, [offer.ControlRef], writable: true);
            resources.Add(control);
            if (!ChannelControl.TryAttach(new MemoryWindow(control.Address, control.Length), out var view, out string? error) || view is null)
            {
                throw new PeerProtocolException(peer, $"control page: {error}");
            }

            CheckRingSize(peer, view, 0, offer.Ring0Refs.Length);
            CheckRingSize(peer, view, 1, offer.Ring1Refs.Length);

            // Ring 0 is written by the peer and only read by us: map it read-only.
            var lowToHigh = context.Platform.Grants.Map(peer, offer.Ring0Refs, writable: false);
            resources.Add(lowToHigh);
            var highToLow = context.Platform.Grants.Map(peer, offer.Ring1Refs, writable: true);
            resources.Add(highToLow);
            // Port 0: the peer binds no event channel and polls (PolledEventPort), and so do we.
            var port = offer.Port == 0 ? PolledEventChannels.Instance.BindInterdomain(peer, 0) : context.Platform.Events.BindInterdomain(peer, offer.Port);
            resources.Add(port);
            var channel = new Channel(peer, ChannelSide.High, epoch, view, control, highToLow, lowToHigh, port);
            control.ClearOnUnmap(ChannelLayout.LiveOffset(ChannelSide.High));
            view.SetLive(ChannelSide.High, ChannelLiveness.Connected);
            return channel;
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

    private static void CheckRingSize(ushort peer, ChannelControl view, int ring, int pages)
    {
        long bytes = 1L << view.RingSizeLog2(ring);
        if (bytes != pages * 4096L)
        {
            throw new PeerProtocolException(peer, $"ring {ring} is {bytes} bytes in the control page but {pages} pages were granted");
        }
    }

    private static async Task AnswerAsync(GuestContext context, ushort peer, CancellationToken ct)
    {
        string state = XenVmcPaths.Channel(context.Domid, peer) + "/" + ChannelNodes.State;
        XsPermission[] perms = [new(XsAccess.None, context.Domid), new(XsAccess.Read, peer)];
        await context.Store.TransactAsync(async tx =>
        {
            await context.Store.WriteAsync(state, XenVmcPaths.Connected, tx, ct).ConfigureAwait(false);
            await context.Store.SetPermissionsAsync(state, perms, tx, ct).ConfigureAwait(false);
        }, ct).ConfigureAwait(false);
    }

    private static bool TryParseU32(string? text, out uint value)
    {
        value = 0;
        return text is { Length: > 0 and <= 10 } && text.All(char.IsAsciiDigit) &&
            uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    private static bool TryParseRefs(string? text, int maxPages, out uint[] refs)
    {
        refs = [];
        if (text is null || text.Length > 11 * maxPages)
        {
            return false;
        }

        string[] parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || parts.Length > maxPages || (parts.Length & (parts.Length - 1)) != 0)
        {
            return false;
        }

        refs = new uint[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!TryParseU32(parts[i], out refs[i]))
            {
                return false;
            }
        }

        return true;
    }
}
