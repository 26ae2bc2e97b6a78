using BenchmarkDotNet.Attributes;
using XenVmc.Packets;
using XenVmc.Rings;
using XenVmc.Rings.Tests;

namespace XenVmc.Benchmarks;

/// <summary>
/// One record through a 1 MiB ring over ordinary shared memory (a memfd, as the simulated
/// platform maps it): the producer writes it, the consumer reads and releases it.
/// </summary>
public class RingBenchmarks : IDisposable
{
    private const int RingLog2 = 20;
    private TestChannel _channel = null!;
    private RingProducer _producer = null!;
    private RingConsumer _consumer = null!;
    private byte[] _record = [];

    [Params(64, 1400, 65536)]
    public int RecordBytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _channel = new TestChannel(RingLog2, RingLog2);
        _producer = _channel.Producer(0, PacketLimits.MaxFrameLength);
        _consumer = _channel.Consumer(0, PacketLimits.MaxFrameLength);
        _record = new byte[RecordBytes];
    }

    [Benchmark]
    public int PushPop()
    {
        if (_producer.TryWrite(_record, []) != RingWriteStatus.Written || _consumer.TryRead(out RingRecord record) != RingReadStatus.Record)
        {
            throw new InvalidOperationException("the ring refused a record");
        }

        int length = record.Payload.Length;
        _consumer.Release();
        return length;
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _channel.Dispose();
        GC.SuppressFinalize(this);
    }
}
