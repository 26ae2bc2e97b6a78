using System.Security.Cryptography;
using XenVmc.Rings;
using Xunit;

namespace XenVmc.Rings.Tests;

/// <summary>A producer that breaks the rules: the consumer refuses, stays inside its window, and never throws.</summary>
public partial class RingConsumerTests
{
    /// <summary>Sets up shared state directly, as a hostile peer would.</summary>
    public delegate void HostileSetup(TestChannel channel);

    public static TheoryData<string, HostileSetup> HostileStates => new()
    {
        { "prod unaligned", c => c.Prod(0) = 4 },
        { "prod more than a ring ahead", c => c.Prod(0) = 4096 + 8 },
        { "prod far ahead", c => c.Prod(0) = 0x8000_0000 },
        { "prod behind cons", c => c.Prod(0) = 0xFFFF_FFF8 },
        { "length above max", c => { c.WriteRecordHeader(0, 0, Max + 1, 1); c.Prod(0) = 2048; } },
        { "length 2^32-1", c => { c.WriteRecordHeader(0, 0, uint.MaxValue, 1); c.Prod(0) = 4096; } },
        { "length beyond published bytes", c => { c.WriteRecordHeader(0, 0, 100, 1); c.Prod(0) = 16; } },
        { "kind 0", c => { c.WriteRecordHeader(0, 0, 1, 0); c.Prod(0) = 16; } },
        { "kind 3", c => { c.WriteRecordHeader(0, 0, 1, 3); c.Prod(0) = 16; } },
        { "kind 2^32-1", c => { c.WriteRecordHeader(0, 0, 1, uint.MaxValue); c.Prod(0) = 16; } },
        { "padding at offset 0", c => { c.WriteRecordHeader(0, 0, 4096 - 8, 2); c.Prod(0) = 4096; } },
        { "padding short of the end", c => { c.WriteRecordHeader(0, 0, 8, 1); c.WriteRecordHeader(0, 16, 100, 2); c.Prod(0) = 4096; } },
        { "padding past the end", c => { c.Cons(0) = 4000; c.WriteRecordHeader(0, 4000, 96, 2); c.Prod(0) = 4096; } },
        { "padding not yet published", c => { c.Cons(0) = 4000; c.WriteRecordHeader(0, 4000, 88, 2); c.Prod(0) = 4016; } },
        { "record crosses the end", c => { c.Cons(0) = 4080; c.WriteRecordHeader(0, 4080, 100, 1); c.Prod(0) = 4080 + 200; } },
    };

    [Theory]
    [MemberData(nameof(HostileStates))]
    public void ImpossibleStateIsCorruptForGood(string name, HostileSetup setup)
    {
        using var channel = new TestChannel();
        setup(channel);
        RingConsumer consumer = channel.Consumer(0, Max);
        RingReadStatus status;
        int records = 0;
        while ((status = consumer.TryRead(out RingRecord record)) == RingReadStatus.Record)
        {
            Assert.True(channel.IsInsideReadOnlyRing(0, record.Payload));
            records++;
            Assert.True(records < 10, name);
        }

        Assert.True(status == RingReadStatus.PeerCorrupt, $"{name}: {status}");
        Assert.True(consumer.IsPeerCorrupt);

        // Repairing the state does not restore trust.
        channel.Prod(0) = channel.Cons(0);
        Assert.Equal(RingReadStatus.PeerCorrupt, consumer.TryRead(out _));
        Assert.False(consumer.PrepareToSleep());
    }

    [Fact]
    public void LengthJustOverMaxIsRefusedButMaxIsAccepted()
    {
        using var channel = new TestChannel();
        RingConsumer consumer = channel.Consumer(0, 100);
        channel.WriteRecordHeader(0, 0, 100, 1);
        channel.WriteRecordHeader(0, 112, 101, 1);
        channel.Prod(0) = 112 + 8 + 104;
        Assert.Equal(RingReadStatus.Record, consumer.TryRead(out RingRecord record));
        Assert.Equal(100, record.Payload.Length);
        Assert.Equal(RingReadStatus.PeerCorrupt, consumer.TryRead(out _));
    }

    [Fact]
    public void ProdMovingBackwardsIsCorrupt()
    {
        using var channel = new TestChannel();
        RingProducer producer = channel.Producer(0, Max);
        RingConsumer consumer = channel.Consumer(0, Max);
        Assert.Equal(RingWriteStatus.Written, producer.TryWrite(new byte[8], default));
        Assert.Equal(RingWriteStatus.Written, producer.TryWrite(new byte[8], default));
        Assert.Equal(RingReadStatus.Record, consumer.TryRead(out _));
        consumer.Release();

        channel.Prod(0) = 16; // was 32; the consumer has seen 32 and released up to 16
        Assert.Equal(RingReadStatus.Record, consumer.TryRead(out _)); // the record it already knew about
        Assert.Equal(RingReadStatus.PeerCorrupt, consumer.TryRead(out _));
    }

    [Fact]
    public void ImpossibleConsAtStartIsCorrupt()
    {
        using var channel = new TestChannel();
        channel.Cons(0) = 12;
        RingConsumer consumer = channel.Consumer(0, Max);
        Assert.True(consumer.IsPeerCorrupt);
        Assert.Equal(RingReadStatus.PeerCorrupt, consumer.TryRead(out _));
    }

    /// <summary>
    /// Random ring contents and indices, many times over: the consumer returns records that lie
    /// inside its window and obey the limits, or PeerCorrupt, or Empty; it never throws. The
    /// window is a read-only mapping between guard pages, so a stray access would kill the run.
    /// </summary>
    [Fact]
    public void RandomContentsNeverEscapeTheWindow()
    {
        using var channel = new TestChannel();
        var random = new Random(99);
        Span<byte> data = channel.WritableRing(0).Span;
        var outcomes = new Dictionary<RingReadStatus, int>();
        for (int iteration = 0; iteration < 20_000; iteration++)
        {
            random.NextBytes(data);
            uint cons = (uint)random.Next() & ~7u;
            channel.Cons(0) = cons;

            // Plausible headers at the start position, so reads get past the first check often.
            int position = (int)(cons & 4095);
            int at = position;
            for (int n = 0; at < 4096 && n < 6; n++)
            {
                uint length = (uint)random.Next(0, Max + 64);
                uint kind = (uint)random.Next(0, 4);
                if (random.Next(4) == 0)
                {
                    kind = 2;
                    length = (uint)(4096 - at - 8);
                }

                channel.WriteRecordHeader(0, at, length, kind);
                at += ChannelLayout.RecordSize((int)Math.Min(length, 4096u));
            }

            channel.Prod(0) = random.Next(4) switch
            {
                0 => cons + (uint)(random.Next(0, 513) * 8),
                1 => cons + (uint)random.Next(0, 5000),
                2 => cons + (uint)(at - position), // exactly the end of the plausible headers
                _ => (uint)random.Next(),
            };

            RingConsumer consumer = channel.Consumer(0, Max);
            for (int reads = 0; reads < 64; reads++)
            {
                RingReadStatus status = consumer.TryRead(out RingRecord record);
                outcomes[status] = outcomes.GetValueOrDefault(status) + 1;
                if (status != RingReadStatus.Record)
                {
                    break;
                }

                Assert.InRange(record.Payload.Length, 0, Max);
                Assert.True(channel.IsInsideReadOnlyRing(0, record.Payload));
                if (reads % 3 == 0)
                {
                    consumer.Release();
                }
            }
        }

        Assert.True(outcomes.GetValueOrDefault(RingReadStatus.Record) > 1000);
        Assert.True(outcomes.GetValueOrDefault(RingReadStatus.PeerCorrupt) > 1000);
        Assert.True(outcomes.GetValueOrDefault(RingReadStatus.Empty) > 100);
    }

    /// <summary>
    /// A peer thread scribbles on prod and on the ring while the consumer reads: whatever the
    /// interleaving, the consumer never throws and never hands out a span outside its window.
    /// </summary>
    [Fact]
    public void ConcurrentScribblingNeverEscapesTheWindow()
    {
        using var channel = new TestChannel();
        MemoryWindow writable = channel.WritableRing(0);
        // At least 1.5 s, and on until each outcome was seen often enough (a loaded machine may
        // give the two threads little time), but never more than 30 s.
        using var stop = new CancellationTokenSource();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long scribbles = 0;
        var peer = new Thread(() =>
        {
            var random = new Random(7);
            Span<byte> data = writable.Span;
            while (!stop.IsCancellationRequested)
            {
                switch (random.Next(10))
                {
                    case < 7:
                        AppendLikeAProducer(channel, random);
                        break;
                    case 7:
                        channel.Prod(0) = (uint)random.Next();
                        break;
                    case 8:
                        int at = random.Next(0, 512) * 8;
                        channel.WriteRecordHeader(0, at, (uint)random.Next(0, Max + 2), (uint)random.Next(0, 3));
                        break;
                    default:
                        RandomNumberGenerator.Fill(data.Slice(random.Next(0, 4000), 64));
                        break;
                }

                scribbles++;
            }
        })
        { IsBackground = true };
        peer.Start();

        var outcomes = new Dictionary<RingReadStatus, int>();
        RingConsumer consumer = channel.Consumer(0, Max);
        while (clock.Elapsed < TimeSpan.FromSeconds(1.5)
            || (clock.Elapsed < TimeSpan.FromSeconds(30) && (outcomes.GetValueOrDefault(RingReadStatus.Record) <= 1000 || outcomes.GetValueOrDefault(RingReadStatus.PeerCorrupt) <= 100)))
        {
            RingReadStatus status = consumer.TryRead(out RingRecord record);
            outcomes[status] = outcomes.GetValueOrDefault(status) + 1;
            switch (status)
            {
                case RingReadStatus.Record:
                    Assert.InRange(record.Payload.Length, 0, Max);
                    Assert.True(channel.IsInsideReadOnlyRing(0, record.Payload));
                    consumer.Release();
                    break;
                case RingReadStatus.PeerCorrupt:
                    consumer = channel.Consumer(0, Max); // a fresh connection, to keep exercising reads
                    break;
                default:
                    break;
            }
        }

        stop.Cancel();
        Assert.True(peer.Join(TimeSpan.FromSeconds(5)));
        Assert.True(scribbles > 1000);
        Assert.True(outcomes.GetValueOrDefault(RingReadStatus.Record) > 1000, string.Join(", ", outcomes));
        Assert.True(outcomes.GetValueOrDefault(RingReadStatus.PeerCorrupt) > 100, string.Join(", ", outcomes));
    }

    /// <summary>A mostly honest append, racing with the consumer, from whatever prod and cons say now.</summary>
    private static void AppendLikeAProducer(TestChannel channel, Random random)
    {
        uint prod = channel.Prod(0);
        uint cons = channel.Cons(0);
        if (prod % 8 != 0 || prod - cons > 4096)
        {
            channel.Prod(0) = cons;
            return;
        }

        int length = random.Next(0, Max + 1);
        int size = ChannelLayout.RecordSize(length);
        int position = (int)(prod & 4095);
        int tail = 4096 - position;
        int required = size <= tail ? size : tail + size;
        if (4096 - (prod - cons) < required)
        {
            return;
        }

        if (size > tail)
        {
            channel.WriteRecordHeader(0, position, (uint)(tail - 8), ChannelLayout.RecordKindPadding);
            position = 0;
        }

        channel.WriteRecordHeader(0, position, (uint)length, ChannelLayout.RecordKindPacket);
        Volatile.Write(ref channel.Prod(0), prod + (uint)required);
    }

    /// <summary>The producer side of the same: a scribbled cons never makes it write outside its window.</summary>
    [Fact]
    public void ProducerUnderScribbledConsStaysInItsWindow()
    {
        using var channel = new TestChannel();
        var random = new Random(11);
        byte[] payload = new byte[Max];
        int written = 0, corrupt = 0;
        for (int iteration = 0; iteration < 20_000; iteration++)
        {
            uint prod = (uint)random.Next() & ~7u;
            channel.Prod(0) = prod;
            channel.Cons(0) = prod - (uint)(random.Next(0, 513) * 8);
            RingProducer producer = channel.Producer(0, Max);
            for (int n = 0; n < 8; n++)
            {
                if (random.Next(3) == 0)
                {
                    channel.Cons(0) = random.Next(2) == 0 ? (uint)random.Next() : channel.Cons(0) + (uint)(random.Next(0, 64) * 8);
                }

                RingWriteStatus status = producer.TryWrite(payload.AsSpan(0, random.Next(0, Max + 1)), default);
                written += status == RingWriteStatus.Written ? 1 : 0;
                corrupt += status == RingWriteStatus.PeerCorrupt ? 1 : 0;
                Assert.Equal(0u, channel.Prod(0) % 8);
            }
        }

        Assert.True(written > 1000);
        Assert.True(corrupt > 1000);
    }
}
