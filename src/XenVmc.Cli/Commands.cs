using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using XenVmc.Guest;
using XenVmc.Guest.Status;
using XenVmc.Linux;

namespace XenVmc.Cli;

/// <summary>The commands. Each returns the exit code <see cref="Cli"/> documents.</summary>
internal static class Commands
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private static readonly JsonSerializerOptions Compact = new() { WriteIndented = false };

    public static int Status(string socket, bool json, bool check, TextWriter o)
    {
        var (s, raw) = StatusClient.Fetch(socket);
        int connected = s.Peers.Count(p => p.State == "connected");
        if (json)
        {
            o.WriteLine(System.Text.Encoding.UTF8.GetString(raw));
        }
        else
        {
            o.WriteLine(string.Create(Inv, $"domain {s.Domid} on the {s.Platform} platform, interface {s.Interface}, {s.Peers.Count} peers, {connected} connected, session {s.Sessions}"));
            foreach (var h in s.Held)
            {
                o.WriteLine(string.Create(Inv, $"peer {h.Domid}: filtered in Dom0, stays on the bridge ({h.Reason})"));
            }

            if (s.FirewallWarning is { } warning)
            {
                o.WriteLine("warning: " + warning);
            }

            WritePeerCounters(s, o);
            WriteTotals(s, o);
        }

        return check && (s.Domid == 0 || connected < s.Peers.Count) ? Cli.Degraded : Cli.Ok;
    }

    public static int Peers(string socket, bool json, TextWriter o)
    {
        var (s, _) = StatusClient.Fetch(socket);
        if (json)
        {
            var array = new JsonArray([.. s.Peers.Select(p => (JsonNode)new JsonObject
            {
                ["domid"] = p.Domid,
                ["state"] = p.State,
                ["side"] = p.Side,
                ["connected_since"] = p.ConnectedSince?.ToString("O", Inv),
                ["addresses"] = new JsonArray([.. p.Addresses.Select(a => (JsonNode)JsonValue.Create(a))]),
            })]);
            o.WriteLine(array.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return Cli.Ok;
        }

        o.WriteLine($"{"PEER",-6} {"STATE",-12} {"SIDE",-7} {"CONNECTED SINCE",-20}  ADDRESSES");
        foreach (var p in s.Peers)
        {
            string since = p.ConnectedSince?.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss", Inv) ?? "-";
            o.WriteLine(string.Create(Inv, $"{p.Domid,-6} {p.State,-12} {p.Side,-7} {since,-20}  {string.Join(' ', p.Addresses)}"));
        }

        return Cli.Ok;
    }

    public static int Stats(string socket, bool json, TextWriter o)
    {
        var (s, _) = StatusClient.Fetch(socket);
        if (json)
        {
            o.WriteLine(StatsJson(s, null, 0).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return Cli.Ok;
        }

        WritePeerCounters(s, o);
        WriteTotals(s, o);
        return Cli.Ok;
    }

    /// <summary>The live view: a sample every <paramref name="interval"/>, rates from the difference to the one before.</summary>
    public static int Watch(string socket, bool json, TimeSpan interval, int? count, TextWriter o)
    {
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
        StatusSnapshot? previous = null;
        for (int sample = 0; count is null || sample < count; sample++)
        {
            if (sample > 0 && stop.Token.WaitHandle.WaitOne(interval))
            {
                break;
            }

            var (s, _) = StatusClient.Fetch(socket);
            double seconds = previous is null ? 0 : (s.Time - previous.Time).TotalSeconds;
            if (json)
            {
                o.WriteLine(StatsJson(s, previous, seconds).ToJsonString(Compact));
            }
            else
            {
                if (!Console.IsOutputRedirected && ReferenceEquals(o, Console.Out))
                {
                    o.Write("\e[H\e[2J");
                }

                o.WriteLine(string.Create(Inv, $"xenvmc stats — domain {s.Domid}, {s.Interface}, {s.Time.ToUniversalTime():HH:mm:ss} UTC, every {interval.TotalSeconds:0.#} s (Ctrl-C ends)"));
                o.WriteLine($"{"PEER",-6} {"STATE",-12} {"TX PKT/S",10} {"TX MBIT/S",10} {"RX PKT/S",10} {"RX MBIT/S",10} {"DROPS",8}");
                foreach (var p in s.Peers)
                {
                    var before = previous?.Peers.FirstOrDefault(q => q.Domid == p.Domid);
                    o.WriteLine(string.Create(Inv,
                        $"{p.Domid,-6} {p.State,-12} {Rate(p.TxPackets, before?.TxPackets, seconds),10:0} {Rate(p.TxBytes, before?.TxBytes, seconds) * 8e-6,10:0.0} {Rate(p.RxPackets, before?.RxPackets, seconds),10:0} {Rate(p.RxBytes, before?.RxBytes, seconds) * 8e-6,10:0.0} {p.Drops.Values.Sum(),8}"));
                }

                var t = s.Totals;
                var tb = previous?.Totals;
                o.WriteLine(string.Create(Inv,
                    $"{"total",-6} {"",-12} {Rate(t.TxPackets, tb?.TxPackets, seconds),10:0} {Rate(t.TxBytes, tb?.TxBytes, seconds) * 8e-6,10:0.0} {Rate(t.RxPackets, tb?.RxPackets, seconds),10:0} {Rate(t.RxBytes, tb?.RxBytes, seconds) * 8e-6,10:0.0} {t.Drops.Values.Sum(),8}"));
            }

            o.Flush();
            previous = s;
        }

        return Cli.Ok;
    }

    /// <summary>
    /// The Prometheus text; to <paramref name="output"/> atomically when given, so node-exporter's
    /// textfile collector never reads half a file. A daemon that does not answer is written as
    /// xenvmc_up 0 (and exit 1) rather than leaving the last file standing.
    /// </summary>
    public static int Metrics(string socket, string? output, TextWriter o)
    {
        string text;
        int exit = Cli.Ok;
        try
        {
            text = PrometheusText.Render(StatusClient.Fetch(socket).Snapshot);
        }
        catch (IOException) when (output is not null)
        {
            text = PrometheusText.Down();
            exit = Cli.NotReachable;
        }

        if (output is null)
        {
            o.Write(text);
            return exit;
        }

        string full = Path.GetFullPath(output);
        string temporary = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        try
        {
            File.WriteAllText(temporary, text);
            File.Move(temporary, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }

            throw new OutputException($"metrics --output {output}: {e.Message}", e);
        }

        return exit;
    }

    public static int Routes(bool json, TextWriter o)
    {
        using var netlink = RtNetlink.Open();
        // Every table: the peer routes live in table 86, consulted by the rules for our granted sources.
        var routes = netlink.ListRoutes(AddressFamily.InterNetwork, GuestOptions.RouteProtocolNumber, table: null)
            .Concat(netlink.ListRoutes(AddressFamily.InterNetworkV6, GuestOptions.RouteProtocolNumber, table: null))
            .ToList();
        var rules = netlink.ListRules(GuestOptions.RouteProtocolNumber);
        var names = new Dictionary<int, string>();
        string Name(int index)
        {
            if (!names.TryGetValue(index, out string? name))
            {
                name = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
                    .FirstOrDefault(n => IndexOf(n) == index)?.Name ?? $"#{index}";
                names[index] = name;
            }

            return name;
        }

        if (json)
        {
            var array = new JsonArray([.. routes.Select(r => (JsonNode)new JsonObject
            {
                ["destination"] = $"{r.Destination}/{r.PrefixLength}",
                ["dev"] = Name(r.OutputIfIndex),
                ["src"] = r.PreferredSource?.ToString(),
                ["metric"] = r.Metric,
                ["table"] = r.Table,
            })]);
            o.WriteLine(array.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return Cli.Ok;
        }

        foreach (var r in routes)
        {
            string src = r.PreferredSource is null ? "" : $" src {r.PreferredSource}";
            string metric = r.Metric == 0 ? "" : string.Create(Inv, $" metric {r.Metric}");
            string table = r.Table == 254 ? "" : string.Create(Inv, $" table {r.Table}");
            o.WriteLine(string.Create(Inv, $"{r.Destination}/{r.PrefixLength} dev {Name(r.OutputIfIndex)}{src} proto xenvmc{metric}{table}"));
        }

        foreach (var rule in rules)
        {
            string iif = rule.InputInterface is null ? "" : " iif " + rule.InputInterface;
            o.WriteLine(string.Create(Inv, $"rule {rule.Priority}: from {rule.Source}/{rule.SourceLength}{iif} lookup {rule.Table} proto xenvmc"));
        }

        return Cli.Ok;
    }

    private static int IndexOf(System.Net.NetworkInformation.NetworkInterface n)
    {
        try
        {
            return n.GetIPProperties().GetIPv4Properties()?.Index ?? n.GetIPProperties().GetIPv6Properties()?.Index ?? -1;
        }
        catch (System.Net.NetworkInformation.NetworkInformationException)
        {
            return -1;
        }
    }

    private static double Rate(long now, long? before, double seconds) =>
        before is null || seconds <= 0 ? 0 : Math.Max(0, now - before.Value) / seconds;

    private static JsonObject StatsJson(StatusSnapshot s, StatusSnapshot? previous, double seconds)
    {
        static JsonObject Drops(IReadOnlyDictionary<string, long> drops) => new([.. drops.Select(d => KeyValuePair.Create(d.Key, (JsonNode?)d.Value))]);
        var peers = new JsonArray();
        foreach (var p in s.Peers)
        {
            var peer = new JsonObject
            {
                ["domid"] = p.Domid,
                ["state"] = p.State,
                ["tx_packets"] = p.TxPackets,
                ["tx_bytes"] = p.TxBytes,
                ["rx_packets"] = p.RxPackets,
                ["rx_bytes"] = p.RxBytes,
                ["notifications"] = p.Notifications,
                ["drops"] = Drops(p.Drops),
            };
            if (previous?.Peers.FirstOrDefault(q => q.Domid == p.Domid) is { } before && seconds > 0)
            {
                peer["tx_bytes_per_second"] = Math.Round(Rate(p.TxBytes, before.TxBytes, seconds));
                peer["rx_bytes_per_second"] = Math.Round(Rate(p.RxBytes, before.RxBytes, seconds));
            }

            peers.Add((JsonNode)peer);
        }

        var t = s.Totals;
        return new JsonObject
        {
            ["time"] = s.Time.ToString("O", Inv),
            ["domid"] = s.Domid,
            ["peers"] = peers,
            ["totals"] = new JsonObject
            {
                ["tx_packets"] = t.TxPackets,
                ["tx_bytes"] = t.TxBytes,
                ["rx_packets"] = t.RxPackets,
                ["rx_bytes"] = t.RxBytes,
                ["tx_unconsumed_at_close"] = t.TxUnconsumedAtClose,
                ["rx_drained_at_close"] = t.RxDrainedAtClose,
                ["drops"] = Drops(t.Drops),
            },
            ["tun"] = new JsonObject
            {
                ["read_packets"] = s.Tun.ReadPackets,
                ["read_bytes"] = s.Tun.ReadBytes,
                ["drops"] = Drops(s.Tun.Drops),
            },
        };
    }

    private static void WritePeerCounters(StatusSnapshot s, TextWriter o)
    {
        o.WriteLine($"{"PEER",-6} {"STATE",-12} {"SIDE",-5} {"TX PKTS",12} {"TX BYTES",15} {"RX PKTS",12} {"RX BYTES",15} {"DROPS",8}  ADDRESSES");
        foreach (var p in s.Peers)
        {
            o.WriteLine(string.Create(Inv, $"{p.Domid,-6} {p.State,-12} {p.Side,-5} {p.TxPackets,12} {p.TxBytes,15} {p.RxPackets,12} {p.RxBytes,15} {p.Drops.Values.Sum(),8}  {string.Join(' ', p.Addresses)}"));
            foreach (var (reason, n) in p.Drops.Where(d => d.Value != 0))
            {
                o.WriteLine(string.Create(Inv, $"       drop {reason}: {n}"));
            }
        }
    }

    private static void WriteTotals(StatusSnapshot s, TextWriter o)
    {
        var t = s.Totals;
        o.WriteLine(string.Create(Inv, $"{"total",-6} {"",-12} {"",-5} {t.TxPackets,12} {t.TxBytes,15} {t.RxPackets,12} {t.RxBytes,15} {t.Drops.Values.Sum(),8}  (every link, closed ones too)"));
        o.WriteLine(string.Create(Inv, $"tun: read {s.Tun.ReadPackets} packets, {s.Tun.ReadBytes} bytes"));
        foreach (var (reason, n) in s.Tun.Drops.Where(d => d.Value != 0))
        {
            o.WriteLine(string.Create(Inv, $"       drop {reason}: {n}"));
        }
    }
}
