using System.Globalization;
using System.Text;
using XenVmc.Guest.Status;

namespace XenVmc.Cli;

/// <summary>
/// A status snapshot in the Prometheus text exposition format (version 0.0.4): every name starts
/// with <c>xenvmc_</c>, counters end in <c>_total</c>, times are seconds and sizes bytes, each
/// family has its HELP and TYPE lines once, and a peer is the label <c>peer="DOMID"</c>.
/// </summary>
internal sealed class PrometheusText
{
    /// <summary>Every state a peer's channel can be in; each peer gets one 0/1 series per state.</summary>
    public static readonly string[] PeerStates = ["negotiating", "connected", "disconnected"];

    private readonly StringBuilder _o = new();

    private PrometheusText()
    {
    }

    /// <summary>What is written when no daemon answers: scrapers see it down rather than a stale file.</summary>
    public static string Down()
    {
        var m = new PrometheusText();
        m.Family("xenvmc_up", "gauge", "1 when xenvmc-guest answered on its status socket, 0 when it did not.");
        m.Sample("xenvmc_up", "", 0);
        return m._o.ToString();
    }

    public static string Render(StatusSnapshot s)
    {
        var m = new PrometheusText();
        m.Family("xenvmc_up", "gauge", "1 when xenvmc-guest answered on its status socket, 0 when it did not.");
        m.Sample("xenvmc_up", "", 1);
        m.Family("xenvmc_info", "gauge", "The daemon's domain, interface and platform (always 1).");
        m.Sample("xenvmc_info", $"domid=\"{s.Domid}\",interface=\"{Escape(s.Interface)}\",platform=\"{Escape(s.Platform)}\"", 1);
        if (s.StartedAt is { } started)
        {
            m.Family("xenvmc_start_time_seconds", "gauge", "When xenvmc-guest started, in seconds since the Unix epoch.");
            m.Sample("xenvmc_start_time_seconds", "", started.ToUnixTimeMilliseconds() / 1000.0);
            m.Family("xenvmc_uptime_seconds", "gauge", "How long xenvmc-guest has been running.");
            m.Sample("xenvmc_uptime_seconds", "", Math.Max(0, (s.Time - started).TotalSeconds));
        }

        m.Family("xenvmc_data_thread_passes_total", "counter", "Passes of the data thread over the TUN and the rings (at least one a second).");
        m.Sample("xenvmc_data_thread_passes_total", "", s.DataThreadPasses);
        m.Family("xenvmc_sessions_total", "counter", "Registrations in XenStore since the daemon started (a new one after a resume).");
        m.Sample("xenvmc_sessions_total", "", s.Sessions);
        m.Family("xenvmc_peers", "gauge", "Peers in the daemon's peer table.");
        m.Sample("xenvmc_peers", "", s.Peers.Count);

        m.PeerFamily(s, "xenvmc_peer_state", "gauge", "1 for the state the channel to the peer is in, 0 for the others.", (p, emit) =>
        {
            foreach (string state in PeerStates)
            {
                emit($"state=\"{state}\"", p.State == state ? 1 : 0);
            }
        });
        m.PeerFamily(s, "xenvmc_peer_connected_seconds", "gauge", "How long the channel to the peer has been connected (0 when it is not).", (p, emit) =>
            emit("", p.State == "connected" && p.ConnectedSince is { } since ? Math.Max(0, (s.Time - since).TotalSeconds) : 0));
        m.PeerFamily(s, "xenvmc_peer_transmit_packets_total", "counter", "Packets written to the peer's ring.", (p, emit) => emit("", p.TxPackets));
        m.PeerFamily(s, "xenvmc_peer_transmit_bytes_total", "counter", "Bytes written to the peer's ring.", (p, emit) => emit("", p.TxBytes));
        m.PeerFamily(s, "xenvmc_peer_receive_packets_total", "counter", "Packets read from the peer's ring.", (p, emit) => emit("", p.RxPackets));
        m.PeerFamily(s, "xenvmc_peer_receive_bytes_total", "counter", "Bytes read from the peer's ring.", (p, emit) => emit("", p.RxBytes));
        m.PeerFamily(s, "xenvmc_peer_notifications_total", "counter", "Event-channel notifications sent to the peer.", (p, emit) => emit("", p.Notifications));
        m.PeerFamily(s, "xenvmc_peer_drops_total", "counter", "Packets to or from the peer that were dropped, by reason.", (p, emit) =>
        {
            foreach (var (reason, n) in p.Drops)
            {
                emit($"reason=\"{Escape(reason)}\"", n);
            }
        });
        m.PeerFamily(s, "xenvmc_peer_violations_total", "counter", "Rule breaks by the peer (each one disconnects it), by kind.", (p, emit) =>
        {
            foreach (var (kind, n) in p.Violations)
            {
                emit($"kind=\"{Escape(kind)}\"", n);
            }
        });
        m.PeerFamily(s, "xenvmc_peer_ring_used_bytes", "gauge", "Bytes in the peer's ring as last seen, by direction.", (p, emit) =>
        {
            emit("direction=\"transmit\"", p.TxRingUsedBytes);
            emit("direction=\"receive\"", p.RxRingUsedBytes);
        });
        m.PeerFamily(s, "xenvmc_peer_ring_size_bytes", "gauge", "Size of each ring direction (0 without a channel).", (p, emit) => emit("", p.RingSizeBytes));

        var t = s.Totals;
        m.Counter("xenvmc_transmit_packets_total", "Packets written to rings over every link this daemon has had, closed ones included.", t.TxPackets);
        m.Counter("xenvmc_transmit_bytes_total", "Bytes written to rings over every link, closed ones included.", t.TxBytes);
        m.Counter("xenvmc_receive_packets_total", "Packets read from rings over every link, closed ones included.", t.RxPackets);
        m.Counter("xenvmc_receive_bytes_total", "Bytes read from rings over every link, closed ones included.", t.RxBytes);
        m.Labelled("xenvmc_drops_total", "Packets dropped on any link, closed ones included, by reason.", "reason", t.Drops);
        m.Labelled("xenvmc_violations_total", "Rule breaks by any peer, by kind.", "kind", t.Violations);
        m.Counter("xenvmc_tun_read_packets_total", "Packets read from the TUN.", s.Tun.ReadPackets);
        m.Counter("xenvmc_tun_read_bytes_total", "Bytes read from the TUN.", s.Tun.ReadBytes);
        m.Labelled("xenvmc_tun_drops_total", "Packets read from the TUN and dropped, by reason.", "reason", s.Tun.Drops);
        return m._o.ToString();
    }

    private void Counter(string name, string help, long value)
    {
        Family(name, "counter", help);
        Sample(name, "", value);
    }

    private void Labelled(string name, string help, string label, IReadOnlyDictionary<string, long> values)
    {
        Family(name, "counter", help);
        foreach (var (key, n) in values)
        {
            Sample(name, $"{label}=\"{Escape(key)}\"", n);
        }
    }

    private void PeerFamily(StatusSnapshot s, string name, string type, string help, Action<PeerStatus, Action<string, double>> samples)
    {
        Family(name, type, help);
        foreach (var p in s.Peers)
        {
            string peer = string.Create(CultureInfo.InvariantCulture, $"peer=\"{p.Domid}\"");
            samples(p, (labels, value) => Sample(name, labels.Length == 0 ? peer : peer + "," + labels, value));
        }
    }

    private void Family(string name, string type, string help) =>
        _o.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n')
          .Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private void Sample(string name, string labels, double value)
    {
        _o.Append(name);
        if (labels.Length > 0)
        {
            _o.Append('{').Append(labels).Append('}');
        }

        _o.Append(' ').Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
    }

    /// <summary>A label value: backslash, double quote and newline escaped as the format requires.</summary>
    internal static string Escape(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}
