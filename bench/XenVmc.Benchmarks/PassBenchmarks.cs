using BenchmarkDotNet.Attributes;
using XenVmc.Packets;
using XenVmc.Packets.Tests;
using XenVmc.Rings;
using XenVmc.Rings.Tests;

namespace XenVmc.Benchmarks;

/// <summary>
/// The per-packet work of the guest's transmit and receive passes without their TUN system
/// calls (a TUN needs root and its read/write cost is the kernel's, measured by
/// netns-tests/bench.sh): transmit = parse the packet read from the TUN, find the peer by
/// destination, write the record into the peer's ring; receive = read a record, copy its
/// headers privately, parse and check them, copy the record out (where the TUN write would
/// take it), release. Each also does the other side's bare ring operation so the ring stays
/// level; <see cref="RingBenchmarks.PushPop"/> is that cost.
/// </summary>
public class PassBenchmarks : IDisposable
{
    private const int PrivateHeaderBytes = VirtioNetHeader.Size + 256;
    private readonly Dictionary<IpKey, int> _routes = [];
    private readonly byte[] _buffer = new byte[PacketLimits.MaxFrameLength];
    private TestChannel _channel = null!;
    private RingProducer _producer = null!;
    private RingConsumer _consumer = null!;
    private byte[] _record = [];

    [Params(64, 1400)]
    public int PacketBytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _channel = new TestChannel(20, 20);
        _producer = _channel.Producer(0, PacketLimits.MaxFrameLength);
        _consumer = _channel.Consumer(0, PacketLimits.MaxFrameLength);
        byte[] packet = PacketBuilder.Ipv4(IpProtocol.Udp, PacketBuilder.Udp(payload: new byte[PacketBytes - 28]));
        _record = [.. PacketBuilder.Vnet(), .. packet];
        for (int i = 1; i <= 31; i++)
        {
            _routes[IpKey.FromIPv4([198, 51, 100, (byte)i])] = i;
        }
    }

    [Benchmark]
    public int TransmitPass()
    {
        if (PacketParser.TryParse(_record.AsSpan(VirtioNetHeader.Size), out PacketInfo info) != PacketDropReason.None
            || !_routes.TryGetValue(info.Destination, out int peer)
            || _producer.TryWrite(_record, []) != RingWriteStatus.Written)
        {
            throw new InvalidOperationException("transmit refused the packet");
        }

        _consumer.TryRead(out _);
        _consumer.Release();
        return peer;
    }

    [Benchmark]
    public int ReceivePass()
    {
        _producer.TryWrite(_record, []);
        if (_consumer.TryRead(out RingRecord record) != RingReadStatus.Record)
        {
            throw new InvalidOperationException("no record");
        }

        // As the guest's receive path: the headers copied privately and parsed in place in the
        // buffer the TUN write takes, then the rest of the record copied behind them.
        ReadOnlySpan<byte> shared = record.Payload;
        int copied = Math.Min(shared.Length, PrivateHeaderBytes);
        shared[..copied].CopyTo(_buffer);
        var whole = _buffer.AsSpan(0, shared.Length);
        if (PacketParser.TryParse(whole[VirtioNetHeader.Size..], out PacketInfo info) != PacketDropReason.None
            || PacketParser.ValidateVnet(whole[..VirtioNetHeader.Size], info) != PacketDropReason.None)
        {
            throw new InvalidOperationException("receive refused the record");
        }

        shared[copied..].CopyTo(_buffer.AsSpan(copied));
        _consumer.Release();
        return info.Length;
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _channel.Dispose();
        GC.SuppressFinalize(this);
    }
}
