using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using PacketDotNet;
using PacketDotNet.Utils;
using XenVmc.Guest;
using XenVmc.Guest.Channels;
using XenVmc.Packets;
using XenVmc.Platform;
using XenVmc.Platform.Layout;
using XenVmc.Rings;
using XenVmc.XenStore;

namespace XenVmc.Sim;

/// <summary>
/// The hostile test peer: announces itself as a guest daemon would, follows the peer table Dom0
/// keeps for it, and negotiates channels with the victim through the real
/// <see cref="ChannelOffer"/>/<see cref="ChannelAccept"/> code on the simulated platform; then
/// writes into its shared pages what no honest daemon writes.
/// </summary>
/// <remarks>
/// Design: the control path is async on the caller; one pump thread per channel keeps our
/// heartbeat going and consumes the victim's ring (counting echo replies), so the victim sees a
/// live, polite peer until the attack. Attacks write the shared pages directly, as a hostile
/// guest's kernel could.
/// </remarks>
internal sealed class HostilePeer(ushort domid, XenStoreClient store, IXenPlatform platform, ILogger logger, GuestState victim, string ownIpv4, string spoofedIpv4)
{
    private readonly GuestContext _context = new(domid, store, platform, new GuestOptions(), new GuestLog(logger), new Linux.ResumeEpoch());
    private ushort _icmpSequence;

    private ushort Victim => (ushort)victim.Domid;

    public async Task AnnounceAsync(CancellationToken ct)
    {
        await _context.RemoveAsync(XenVmcPaths.Channels(domid), default, ct);
        await store.WriteAsync(XenVmcPaths.GuestVersion(domid), XenVmcPaths.ProtocolVersion, default, ct);
        await store.WriteAsync(XenVmcPaths.GuestFeatures(domid), XenVmcPaths.Features, default, ct);
        await store.WriteAsync(XenVmcPaths.GuestState(domid), XenVmcPaths.Ready, default, ct);
    }

    public async Task WithdrawAsync(CancellationToken ct)
    {
        await _context.RemoveAsync(XenVmcPaths.Channels(domid), default, ct);
        await _context.RemoveAsync(XenVmcPaths.GuestState(domid), default, ct);
    }

    public async Task<HostileRound> RunRoundAsync(HostileAttack attack, int valid, TimeSpan timeout, CancellationToken ct)
    {
        using var round = CancellationTokenSource.CreateLinkedTokenSource(ct);
        round.CancelAfter(timeout);
        await WaitForVictimInTableAsync(round.Token);
        var channel = await ConnectAsync(round.Token);
        var pump = new Pump(channel);
        try
        {
            string before = await WaitForRouteAsync("vmc0", TimeSpan.FromSeconds(5));
            for (int i = 0; i < valid; i++)
            {
                Send(channel, EchoRequest(ownIpv4));
                await Task.Delay(20, ct);
            }

            var answers = Stopwatch.StartNew();
            while (pump.EchoReplies < valid && answers.Elapsed < TimeSpan.FromSeconds(3))
            {
                await Task.Delay(20, ct);
            }

            int answered = pump.EchoReplies;
            var clock = Stopwatch.StartNew();
            Attack(channel, attack);
            long spoofed = 0;
            bool disconnected = false;
            while (clock.Elapsed < TimeSpan.FromSeconds(10))
            {
                if (channel.Control.GetLive(channel.PeerSide) != ChannelLiveness.Connected)
                {
                    disconnected = true;
                    break;
                }

                // A spoofed source is dropped and counted; only a peer that keeps spoofing is cut off.
                if (attack == HostileAttack.Source && clock.ElapsedMilliseconds / 50 > spoofed)
                {
                    spoofed++;
                    Send(channel, EchoRequest(spoofedIpv4));
                    channel.Port.Notify();
                }

                await Task.Delay(5, ct);
            }

            double ms = clock.Elapsed.TotalMilliseconds;
            string after = await WaitForRouteAsync("eth0", TimeSpan.FromSeconds(5));
            return new HostileRound(HostileAttacks.Name(attack), before, valid, answered, disconnected, ms, after);
        }
        finally
        {
            pump.Stop();
            channel.Dispose();
            await _context.RemoveAsync(XenVmcPaths.Channel(domid, Victim), default, ct);
        }
    }

    /// <summary>
    /// The handshake, tried again while it fails the way a real peer's does between rounds: the
    /// victim's previous offer can still be in the store a moment after its grants went (the
    /// victim revokes first, then removes the nodes), and mapping it fails.
    /// </summary>
    private async Task<Channel> ConnectAsync(CancellationToken ct)
    {
        while (true)
        {
            try
            {
                return domid < Victim
                    ? await ChannelOffer.OfferAsync(_context, Victim, ct)
                    : await ChannelAccept.AcceptAsync(_context, Victim, ct);
            }
            catch (Exception e) when (e is IOException or PeerProtocolException)
            {
                await Task.Delay(100, ct);
            }
        }
    }

    /// <summary>
    /// Offers the victim a channel (grants, port, XenStore nodes, as the real offer does) without
    /// being in its peer table, then waits <paramref name="wait"/> for an answer that must not come.
    /// </summary>
    public async Task<string> OfferUnpairedAsync(TimeSpan wait, CancellationToken ct)
    {
        bool inTable = (await PeerTableReader.ReadAsync(_context, ct)).ContainsKey(Victim);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(wait);
        try
        {
            using var channel = await ChannelOffer.OfferAsync(_context, Victim, timeout.Token);
            return $"ACCEPTED: domain {Victim} connected to our offer (we are {(inTable ? "" : "not ")}in our table's view of it)";
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return $"refused: domain {Victim} ignored our offer for {wait.TotalSeconds:0} s (it is {(inTable ? "" : "not ")}in our peer table)";
        }
        finally
        {
            await _context.RemoveAsync(XenVmcPaths.Channel(domid, Victim), default, ct);
        }
    }

    private async Task WaitForVictimInTableAsync(CancellationToken ct)
    {
        await using var watch = await store.WatchAsync(XenVmcPaths.PeerTable(domid), _context.NextToken(), ct);
        while (!(await PeerTableReader.ReadAsync(_context, ct)).ContainsKey(Victim))
        {
            await _context.WaitForEventAsync(watch, TimeSpan.FromMilliseconds(500), ct);
        }
    }

    /// <summary>Waits (bounded) until the victim routes our address via <paramref name="device"/>; returns the device it uses.</summary>
    private async Task<string> WaitForRouteAsync(string device, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        string current;
        while ((current = VictimRouteDevice()) != device && clock.Elapsed < timeout)
        {
            await Task.Delay(20);
        }

        return current;
    }

    private string VictimRouteDevice()
    {
        var (exit, output, _) = Shell.Run("ip", ["-n", victim.Namespace, "-j", "route", "get", ownIpv4], check: false);
        return exit == 0 ? JsonDocument.Parse(output).RootElement[0].GetProperty("dev").GetString() ?? "?" : "?";
    }

    private static void Send(Channel channel, ReadOnlySpan<byte> record)
    {
        if (channel.Producer.TryWrite(record, default) == RingWriteStatus.Written)
        {
            channel.Port.Notify();
        }
    }

    private void Attack(Channel channel, HostileAttack attack)
    {
        var control = channel.Control.Window.Span;
        int txRing = ChannelLayout.TransmitRing(channel.Side);
        var prodField = control.Slice(ChannelLayout.ProducerIndexOffset(txRing), sizeof(uint));
        var data = new MemoryWindow(channel.TransmitRegion.Address, channel.TransmitRegion.Length).Span;
        uint size = (uint)channel.Producer.Capacity;
        uint prod = BinaryPrimitives.ReadUInt32LittleEndian(prodField);
        switch (attack)
        {
            case HostileAttack.ProdIndex:
                BinaryPrimitives.WriteUInt32LittleEndian(prodField, prod + size + ChannelLayout.RecordAlignment);
                break;
            case HostileAttack.RecordLength:
                // A 4096-byte packet record, of which only the 8-byte header is published.
                int position = (int)(prod & (size - 1));
                BinaryPrimitives.WriteUInt32LittleEndian(data[position..], 4096);
                BinaryPrimitives.WriteUInt32LittleEndian(data[(position + 4)..], ChannelLayout.RecordKindPacket);
                Thread.MemoryBarrier();
                BinaryPrimitives.WriteUInt32LittleEndian(prodField, prod + 16);
                break;
            case HostileAttack.Header:
                Send(channel, ShortHeader());
                break;
            case HostileAttack.Source:
                Send(channel, EchoRequest(spoofedIpv4));
                break;
            default:
                Random.Shared.NextBytes(data);
                Thread.MemoryBarrier();
                BinaryPrimitives.WriteUInt32LittleEndian(prodField, (uint)Random.Shared.Next());
                break;
        }

        channel.Port.Notify();
    }

    /// <summary>A virtio-net header (no offloads) and an IPv4 ICMP echo request from <paramref name="source"/> to the victim, built by PacketDotNet.</summary>
    private byte[] EchoRequest(string source) => WithVnetHeader(EchoRequestPacket(source));

    /// <summary>The echo request with its IHL rewritten to 3 (a 12-byte header) and the header checksum made right again, so only the IHL is wrong.</summary>
    private byte[] ShortHeader()
    {
        IPv4Packet packet = EchoRequestPacket(ownIpv4);
        packet.HeaderLength = 3;
        packet.UpdateIPChecksum();
        return WithVnetHeader(packet);
    }

    private IPv4Packet EchoRequestPacket(string source)
    {
        byte[] data = new byte[32];
        data.AsSpan().Fill(0x5a);
        var icmp = new IcmpV4Packet(new ByteArraySegment(new byte[8 + data.Length]))
        {
            TypeCode = IcmpV4TypeCode.EchoRequest,
            Id = domid,
            Sequence = ++_icmpSequence,
            Data = data,
        };
        icmp.UpdateIcmpChecksum();
        var ip = new IPv4Packet(IPAddress.Parse(source), IPAddress.Parse(victim.Ipv4))
        {
            Id = _icmpSequence,
            FragmentFlags = 0x2, // DF
            TimeToLive = 64,
            PayloadPacket = icmp,
        };
        ip.UpdateCalculatedValues();
        ip.UpdateIPChecksum();
        return ip;
    }

    private static byte[] WithVnetHeader(IPv4Packet packet) => [.. new byte[VirtioNetHeader.Size], .. packet.Bytes];

    /// <summary>Keeps our heartbeat going and drains the victim's ring until stopped.</summary>
    private sealed class Pump
    {
        private readonly Channel _channel;
        private readonly Thread _thread;
        private volatile bool _stop;
        private int _echoReplies;

        public Pump(Channel channel)
        {
            _channel = channel;
            _thread = new Thread(Run) { IsBackground = true, Name = "hostile pump" };
            _thread.Start();
        }

        public int EchoReplies => Volatile.Read(ref _echoReplies);

        public void Stop()
        {
            _stop = true;
            _thread.Join();
        }

        private void Run()
        {
            var consumer = _channel.Consumer;
            long lastBeat = 0;
            while (!_stop)
            {
                if (Environment.TickCount64 - lastBeat >= 100)
                {
                    _channel.Control.BeatHeart(_channel.Side);
                    lastBeat = Environment.TickCount64;
                }

                var status = consumer.TryRead(out var record);
                if (status == RingReadStatus.Record)
                {
                    if (IsEchoReply(record.Payload))
                    {
                        Interlocked.Increment(ref _echoReplies);
                    }

                    if (consumer.Release())
                    {
                        _channel.Port.Notify();
                    }

                    continue;
                }

                if (status == RingReadStatus.PeerCorrupt || !consumer.PrepareToSleep())
                {
                    Thread.Sleep(status == RingReadStatus.PeerCorrupt ? 50 : 0);
                    continue;
                }

                _channel.Port.Wait(50);
            }
        }

        private static bool IsEchoReply(ReadOnlySpan<byte> record)
        {
            if (record.Length < VirtioNetHeader.Size + 28)
            {
                return false;
            }

            var ip = record[VirtioNetHeader.Size..];
            int headerLength = (ip[0] & 0xf) * 4;
            return ip[0] >> 4 == 4 && ip[9] == (byte)IpProtocol.Icmp && ip.Length > headerLength && ip[headerLength] == 0;
        }
    }
}
