using System.Globalization;

namespace XenVmc.Guest;

public sealed partial class GuestDaemon
{
    /// <summary>How long the data thread may go without a pass before the watchdog stops being fed.</summary>
    internal static readonly TimeSpan ReaderStallLimit = TimeSpan.FromSeconds(5);

    private long _lastHeartbeat = -1;
    private long _lastProgressTicks = Environment.TickCount64;

    /// <summary>
    /// Null while the data path works: the data thread (TUN and rings) is alive and has made a pass since
    /// the last check (it wakes at least once a second even when idle, so an idle reader passes
    /// and a wedged one does not). Called by the service monitor every half watchdog interval.
    /// </summary>
    internal string? UnhealthyReason()
    {
        if (!_dataPath.ReaderAlive)
        {
            return $"the {_dataPath.InterfaceName} data thread has ended";
        }

        long beat = _dataPath.Heartbeat;
        long now = Environment.TickCount64;
        if (beat != _lastHeartbeat)
        {
            _lastHeartbeat = beat;
            _lastProgressTicks = now;
            return null;
        }

        long stalled = now - _lastProgressTicks;
        return stalled > ReaderStallLimit.TotalMilliseconds
            ? string.Create(CultureInfo.InvariantCulture, $"the {_dataPath.InterfaceName} data thread made no progress for {stalled / 1000.0:0.#} s")
            : null;
    }

    /// <summary>The STATUS= line: domain, peers, connected channels and totals.</summary>
    internal string StatusLine()
    {
        var s = Snapshot();
        if (_context is null)
        {
            return $"{s.Interface} attached, waiting for XenStore";
        }

        int connected = s.Peers.Count(p => p.State == "connected");
        return string.Create(CultureInfo.InvariantCulture,
            $"domain {s.Domid}: {s.Peers.Count} peers, {connected} channels connected; tx {s.Totals.TxPackets} pkts, rx {s.Totals.RxPackets} pkts");
    }
}
