using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization;
using XenVmc.Platform.Hosting;

namespace XenVmc.Sim;

/// <summary>
/// <c>xenvmc-sim traffic I --peers J,K,… --start-at MS --seconds S [--udp-pps N] [--tcp-kbps K]</c>:
/// run inside guest I's namespace, sends counted UDP datagrams and a checked TCP byte stream to
/// every peer at modest rates from a common start time, receives theirs, and prints per peer
/// what it sent and what arrived: the raw material of the soak test's accounting.
/// </summary>
/// <remarks>
/// UDP datagrams carry (sender index, sequence number); the receiver counts distinct sequence
/// numbers per sender, so a duplicate can never hide a loss. TCP bytes follow a pattern keyed
/// by the sender, checked byte for byte on arrival. Receiving goes on for a few seconds after
/// the last send so packets in flight are not counted as lost.
/// </remarks>
internal static class TrafficCommand
{
    public const int UdpPort = 7101;
    public const int TcpPort = 7102;
    private const int DatagramSize = 256;
    private static readonly TimeSpan Drain = TimeSpan.FromSeconds(4);

    public static async Task<int> RunAsync(string[] args)
    {
        var cl = CommandLine.Parse(args, ["--peers", "--start-at", "--seconds", "--udp-pps", "--tcp-kbps", "--barrier"], []);
        if (cl.Positional is not [var selfText] || !int.TryParse(selfText, CultureInfo.InvariantCulture, out int self) || cl.Get("--peers") is not { } peerList)
        {
            throw new UsageException("usage: xenvmc-sim traffic <own index> --peers J,K,… --start-at UNIX-MS --seconds S [--udp-pps N] [--tcp-kbps K]");
        }

        int[] peers = [.. peerList.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(p => int.Parse(p, CultureInfo.InvariantCulture))];
        string? barrier = cl.Get("--barrier");
        long startMs = long.Parse(cl.Get("--start-at", "0"), CultureInfo.InvariantCulture);
        var duration = TimeSpan.FromSeconds(cl.GetInt("--seconds", 60, 1, 3600));
        int pps = cl.GetInt("--udp-pps", 50, 1, 100000);
        int kbps = cl.GetInt("--tcp-kbps", 200, 0, 1000000);
        var report = new TrafficReport(self, [.. peers.Select(p => new PeerTraffic(p))]);
        var byPeer = report.Peers.ToDictionary(p => p.Peer);

        using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        udp.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReceiveBuffer, 4 << 20);
        udp.Bind(new IPEndPoint(IPAddress.Any, UdpPort));
        using var listener = new TcpListener(IPAddress.Any, TcpPort);
        listener.Start(64);
        if (barrier is not null)
        {
            // Ready once bound: the start time is written to <barrier>/go when every guest is ready.
            File.WriteAllText(Path.Combine(barrier, $"ready-{self}"), "");
            string go = Path.Combine(barrier, "go");
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (!File.Exists(go) || !long.TryParse(File.ReadAllText(go).Trim(), CultureInfo.InvariantCulture, out startMs))
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"no start signal in {go}");
                }

                await Task.Delay(20);
            }
        }

        var startAt = DateTimeOffset.FromUnixTimeMilliseconds(startMs);
        using var stop = new CancellationTokenSource();
        var sendEnd = startAt + duration;
        stop.CancelAfter(sendEnd - DateTimeOffset.UtcNow + Drain + TimeSpan.FromSeconds(2));

        var seen = peers.ToDictionary(p => p, _ => new HashSet<uint>());
        var receiveUdp = Task.Run(() => ReceiveUdpAsync(udp, seen, byPeer, stop.Token));
        var accept = Task.Run(() => AcceptAsync(listener, byPeer, stop.Token));

        var wait = startAt - DateTimeOffset.UtcNow;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }

        var tcpSenders = kbps == 0 ? [] : peers.Select(p => Task.Run(() => SendTcpAsync(self, byPeer[p], kbps, sendEnd))).ToArray();
        await SendUdpAsync(self, udp, byPeer, pps, sendEnd);
        await Task.WhenAll(tcpSenders);
        await Task.Delay(Drain);
        await stop.CancelAsync();
        await Task.WhenAll(receiveUdp.ContinueWith(_ => { }, TaskScheduler.Default), accept.ContinueWith(_ => { }, TaskScheduler.Default));
        foreach (var peer in report.Peers)
        {
            lock (seen[peer.Peer])
            {
                peer.UdpReceived = seen[peer.Peer].Count;
                peer.UdpGaps = Gaps(seen[peer.Peer], pps);
            }
        }

        Console.WriteLine(JsonSerializer.Serialize(report, TrafficJson.Default.TrafficReport));
        return 0;
    }

    /// <summary>
    /// The missing sequence numbers below the highest one received, as ranges with the time the
    /// first of each was sent (seconds after the start): where in the run datagrams went missing.
    /// </summary>
    private static List<string> Gaps(HashSet<uint> seen, int pps)
    {
        var gaps = new List<string>();
        if (seen.Count == 0)
        {
            return gaps;
        }

        uint top = seen.Max();
        for (uint n = 0; n < top && gaps.Count < 32; n++)
        {
            if (seen.Contains(n))
            {
                continue;
            }

            uint first = n;
            while (n + 1 < top && !seen.Contains(n + 1))
            {
                n++;
            }

            gaps.Add(string.Create(CultureInfo.InvariantCulture, $"{first}-{n}@{(double)first / pps:0.00}s"));
        }

        return gaps;
    }

    private static async Task SendUdpAsync(int self, Socket udp, Dictionary<int, PeerTraffic> peers, int pps, DateTimeOffset end)
    {
        byte[] datagram = new byte[DatagramSize];
        var endpoints = peers.Keys.ToDictionary(p => p, p => new IPEndPoint(IPAddress.Parse(GuestAddress(p)), UdpPort));
        var clock = Stopwatch.StartNew();
        long tick = 0;
        while (DateTimeOffset.UtcNow < end)
        {
            foreach (var (index, peer) in peers)
            {
                BinaryPrimitives.WriteInt32LittleEndian(datagram, self);
                BinaryPrimitives.WriteUInt32LittleEndian(datagram.AsSpan(4), (uint)peer.UdpSent);
                try
                {
                    await udp.SendToAsync(datagram, SocketFlags.None, endpoints[index]);
                    peer.UdpSent++;
                }
                catch (SocketException e)
                {
                    // Not sent (e.g. an ICMP error from an earlier datagram reported here): not counted as sent.
                    peer.UdpSendErrors++;
                    peer.LastError = e.SocketErrorCode.ToString();
                }
            }

            tick++;
            var due = TimeSpan.FromSeconds((double)tick / pps) - clock.Elapsed;
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due);
            }
        }
    }

    private static async Task ReceiveUdpAsync(Socket udp, Dictionary<int, HashSet<uint>> seen, Dictionary<int, PeerTraffic> peers, CancellationToken ct)
    {
        byte[] buffer = new byte[2048];
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        while (!ct.IsCancellationRequested)
        {
            SocketReceiveFromResult result;
            try
            {
                result = await udp.ReceiveFromAsync(buffer, SocketFlags.None, any, ct);
            }
            catch (SocketException)
            {
                continue; // ICMP errors for our own sends surface here too.
            }

            if (result.ReceivedBytes < 8)
            {
                continue;
            }

            int from = BinaryPrimitives.ReadInt32LittleEndian(buffer);
            if (seen.TryGetValue(from, out var set))
            {
                lock (set)
                {
                    if (!set.Add(BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(4))))
                    {
                        peers[from].UdpDuplicates++;
                    }
                }
            }
        }
    }

    private static async Task SendTcpAsync(int self, PeerTraffic peer, int kbps, DateTimeOffset end)
    {
        byte[] chunk = new byte[4096];
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Parse(GuestAddress(peer.Peer)), TcpPort);
            var stream = client.GetStream();
            stream.WriteByte((byte)self);
            var clock = Stopwatch.StartNew();
            while (DateTimeOffset.UtcNow < end)
            {
                for (int i = 0; i < chunk.Length; i++)
                {
                    chunk[i] = Pattern(self, peer.TcpSent + i);
                }

                await stream.WriteAsync(chunk);
                peer.TcpSent += chunk.Length;
                var due = TimeSpan.FromSeconds(peer.TcpSent / (kbps * 1024.0)) - clock.Elapsed;
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due);
                }
            }

            client.Client.Shutdown(SocketShutdown.Send);
            _ = await stream.ReadAsync(chunk); // the receiver closes once it has everything
        }
        catch (Exception e) when (e is SocketException or IOException)
        {
            peer.TcpErrors++;
            peer.LastError = e.Message;
        }
    }

    private static async Task AcceptAsync(TcpListener listener, Dictionary<int, PeerTraffic> peers, CancellationToken ct)
    {
        var readers = new List<Task>();
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var client = await listener.AcceptTcpClientAsync(ct);
                readers.Add(Task.Run(() => ReceiveTcpAsync(client, peers, ct)));
            }
        }
        catch (OperationCanceledException)
        {
        }

        await Task.WhenAll(readers);
    }

    private static async Task ReceiveTcpAsync(TcpClient client, Dictionary<int, PeerTraffic> peers, CancellationToken ct)
    {
        using (client)
        {
            var stream = client.GetStream();
            byte[] buffer = new byte[65536];
            PeerTraffic? peer = null;
            try
            {
                int from = stream.ReadByte();
                if (!peers.TryGetValue(from, out peer))
                {
                    return;
                }

                int n;
                while ((n = await stream.ReadAsync(buffer, ct)) > 0)
                {
                    for (int i = 0; i < n; i++)
                    {
                        if (buffer[i] != Pattern(from, peer.TcpReceived + i))
                        {
                            peer.TcpCorrupt++;
                        }
                    }

                    peer.TcpReceived += n;
                }
            }
            catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
            {
                if (peer is not null)
                {
                    peer.TcpErrors++;
                    peer.LastError = e.Message;
                }
            }
        }
    }

    private static byte Pattern(int sender, long offset) => (byte)((offset * 31) + (offset >> 8) + sender);

    private static string GuestAddress(int index) => string.Create(CultureInfo.InvariantCulture, $"198.18.0.{index}");
}

internal sealed record TrafficReport(int Self, List<PeerTraffic> Peers);

/// <summary>Counts for one peer: what we sent it, and what arrived from it.</summary>
internal sealed class PeerTraffic(int peer)
{
    public int Peer { get; } = peer;

    public long UdpSent { get; set; }

    public long UdpSendErrors { get; set; }

    public long UdpReceived { get; set; }

    public long UdpDuplicates { get; set; }

    public List<string> UdpGaps { get; set; } = [];

    public long TcpSent { get; set; }

    public long TcpReceived { get; set; }

    public long TcpCorrupt { get; set; }

    public long TcpErrors { get; set; }

    public string? LastError { get; set; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(TrafficReport))]
internal sealed partial class TrafficJson : JsonSerializerContext;
