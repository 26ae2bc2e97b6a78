using XenVmc.Rings;
using Xunit;

namespace XenVmc.Rings.Tests;

public partial class RingConsumerTests
{
    private const int Max = 1024;

    [Fact]
    public void EmptyRingIsEmpty()
    {
        using var channel = new TestChannel();
        RingConsumer consumer = channel.Consumer(0, Max);
        Assert.Equal(RingReadStatus.Empty, consumer.TryRead(out RingRecord record));
        Assert.True(record.Payload.IsEmpty);
        Assert.False(consumer.Release());
        Assert.Equal(RingReadStatus.Empty, consumer.TryRead(out _));
    }

    [Fact]
    public void ReadsWhatWasWrittenAndReleasesInBatches()
    {
        using var channel = new TestChannel();
        RingProducer producer = channel.Producer(0, Max);
        RingConsumer consumer = channel.Consumer(0, Max);
        Assert.Equal(RingWriteStatus.Written, producer.TryWrite("head"u8, "er+payload"u8));
        Assert.Equal(RingWriteStatus.Written, producer.TryWrite(default, default));
        Assert.Equal(RingWriteStatus.Written, producer.TryWrite(default, "x"u8));

        Assert.Equal(RingReadStatus.Record, consumer.TryRead(out RingRecord first));
        Assert.Equal("header+payload"u8.ToArray(), first.Payload.ToArray());
        Assert.True(channel.IsInsideReadOnlyRing(0, first.Payload));
        Assert.Equal(RingReadStatus.Record, consumer.TryRead(out RingRecord empty));
        Assert.Equal(0, empty.Payload.Length);
        Assert.True(consumer.HasUnreleased);
        Assert.Equal(0u, channel.Cons(0)); // nothing published until Release

        Assert.False(consumer.Release());
        Assert.Equal(32u, channel.Cons(0));
        Assert.False(consumer.HasUnreleased);

        Assert.Equal(RingReadStatus.Record, consumer.TryRead(out RingRecord third));
        Assert.Equal("x"u8.ToArray(), third.Payload.ToArray());
        Assert.Equal(RingReadStatus.Empty, consumer.TryRead(out _));
        Assert.False(consumer.Release());
        Assert.Equal(48u, channel.Cons(0));
        Assert.Equal(channel.Prod(0), channel.Cons(0));
    }

    [Fact]
    public void SkipsPaddingAndReadsFromOffsetZero()
    {
        using var channel = new TestChannel();
        channel.Prod(0) = channel.Cons(0) = 4096 - 40;
        RingProducer producer = channel.Producer(0, Max);
        RingConsumer consumer = channel.Consumer(0, Max);
        Assert.Equal(RingWriteStatus.Written, producer.TryWrite(new byte[24], default));
        Assert.Equal(RingWriteStatus.Written, producer.TryWrite([7, 7, 7], default));

        Assert.Equal(RingReadStatus.Record, consumer.TryRead(out RingRecord a));
        Assert.Equal(24, a.Payload.Length);
        Assert.Equal(RingReadStatus.Record, consumer.TryRead(out RingRecord b));
        Assert.Equal([7, 7, 7], b.Payload.ToArray());
        Assert.Equal(4056 + 8, channel.OffsetInReadOnlyRing(0, a.Payload));
        Assert.Equal(8, channel.OffsetInReadOnlyRing(0, b.Payload));
        Assert.Equal(RingReadStatus.Empty, consumer.TryRead(out _));
        consumer.Release();
        Assert.Equal(4096u + 16, channel.Cons(0));
    }

    [Fact]
    public void MaxPayloadRecords()
    {
        using var channel = new TestChannel();
        RingProducer producer = channel.Producer(0, Max);
        RingConsumer consumer = channel.Consumer(0, Max);
        byte[] payload = Enumerable.Range(0, Max).Select(i => (byte)(i * 7)).ToArray();
        for (int round = 0; round < 20; round++)
        {
            for (int i = 0; i < 3; i++)
            {
                Assert.Equal(RingWriteStatus.Written, producer.TryWrite(payload.AsSpan(0, 100), payload.AsSpan(100)));
            }

            Assert.Equal(RingWriteStatus.Full, producer.TryWrite(payload, default));
            for (int i = 0; i < 3; i++)
            {
                Assert.Equal(RingReadStatus.Record, consumer.TryRead(out RingRecord record));
                Assert.True(record.Payload.SequenceEqual(payload));
            }

            consumer.Release();
        }
    }

    /// <summary>
    /// From every 8-byte-aligned starting position, with indices just below 2^32, a run of
    /// records of mixed sizes goes through the end of the ring and back: every record arrives
    /// whole, in order, at a position inside the window.
    /// </summary>
    [Fact]
    public void WrapsAroundAtEveryAlignment()
    {
        using var channel = new TestChannel();
        int[] sizes = [0, 1, 7, 8, 9, 63, 100, 513, 1016, 1017, 1024];
        byte[] source = Enumerable.Range(0, 4096).Select(i => (byte)((i * 31) + 5)).ToArray();
        var inFlight = new Queue<(int Offset, int Size)>();
        int wraps = 0;
        for (uint start = 0; start < 4096; start += 8)
        {
            uint origin = 0xFFFF_F000 + start;
            channel.Prod(0) = channel.Cons(0) = origin;
            RingProducer producer = channel.Producer(0, Max);
            RingConsumer consumer = channel.Consumer(0, Max);
            inFlight.Clear();
            int written = 0;
            for (int step = 0; step < 24; step++)
            {
                int size = sizes[(int)((start / 8) + (uint)step) % sizes.Length];
                int offset = (written * 13) % 2048;
                ReadOnlySpan<byte> payload = source.AsSpan(offset, size);
                RingWriteStatus status = producer.TryWrite(payload[..(size / 3)], payload[(size / 3)..]);
                if (status == RingWriteStatus.Written)
                {
                    inFlight.Enqueue((offset, size));
                    written++;
                }
                else
                {
                    Assert.Equal(RingWriteStatus.Full, status);
                }

                // Drain on odd steps and when full, so both nearly full and nearly empty rings wrap.
                if (step % 2 == 1 || status == RingWriteStatus.Full)
                {
                    uint before = channel.Cons(0);
                    while (consumer.TryRead(out RingRecord record) == RingReadStatus.Record)
                    {
                        (int expectedOffset, int expectedSize) = inFlight.Dequeue();
                        Assert.True(record.Payload.SequenceEqual(source.AsSpan(expectedOffset, expectedSize)));
                        Assert.True(channel.IsInsideReadOnlyRing(0, record.Payload));
                        Assert.Equal(0, (channel.OffsetInReadOnlyRing(0, record.Payload) - 8) % 8);
                    }

                    consumer.Release();
                    if ((before & 4095) > (channel.Cons(0) & 4095))
                    {
                        wraps++;
                    }
                }
            }

            Assert.Empty(inFlight);
            Assert.False(consumer.IsPeerCorrupt);
            Assert.False(producer.IsPeerCorrupt);
            Assert.Equal(channel.Prod(0), channel.Cons(0));
        }

        Assert.True(wraps > 512, $"the ring wrapped only {wraps} times");
    }

    [Fact]
    public void PrepareToSleepSetsTheFlagOnlyWhenItMaySleep()
    {
        using var channel = new TestChannel();
        RingProducer producer = channel.Producer(0, Max);
        RingConsumer consumer = channel.Consumer(0, Max);

        Assert.True(consumer.PrepareToSleep());
        Assert.Equal(1u, channel.ConsumerSleeping(0));
        Assert.Equal(RingWriteStatus.Written, producer.TryWrite([1], default));
        Assert.True(producer.ConsumerNeedsNotify());
        Assert.Equal(0u, channel.ConsumerSleeping(0));

        // Data published before the re-check: do not sleep, and leave no flag behind.
        Assert.False(consumer.PrepareToSleep());
        Assert.Equal(0u, channel.ConsumerSleeping(0));
        Assert.False(producer.ConsumerNeedsNotify());

        Assert.Equal(RingReadStatus.Record, consumer.TryRead(out _));
        Assert.Throws<InvalidOperationException>(() => consumer.PrepareToSleep());
        consumer.Release();
        Assert.True(consumer.PrepareToSleep());
    }

    [Fact]
    public void ReleaseTellsWhetherTheProducerWaits()
    {
        using var channel = new TestChannel();
        RingProducer producer = channel.Producer(0, Max);
        RingConsumer consumer = channel.Consumer(0, Max);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(RingWriteStatus.Written, producer.TryWrite(new byte[1016], default));
        }

        Assert.Equal(RingWriteStatus.Full, producer.TryWrite([1], default));
        Assert.True(producer.PrepareToWaitForSpace(1));

        Assert.False(consumer.Release()); // nothing read yet: nothing to give back
        Assert.Equal(1u, channel.ProducerWaiting(0));
        Assert.Equal(RingReadStatus.Record, consumer.TryRead(out _));
        Assert.True(consumer.Release());
        Assert.Equal(0u, channel.ProducerWaiting(0));
        Assert.Equal(RingReadStatus.Record, consumer.TryRead(out _));
        Assert.False(consumer.Release());
        Assert.Equal(RingWriteStatus.Written, producer.TryWrite([1], default));
    }

    [Fact]
    public void ConstructorValidatesGeometry()
    {
        using var channel = new TestChannel(12, 14);
        Assert.Throws<ArgumentException>(() => new RingConsumer(channel.Low, 1, channel.ReadOnlyRing(0), Max));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RingConsumer(channel.High, 0, channel.ReadOnlyRing(0), Max + 1));
        RingConsumer consumer = channel.Consumer(1, 4096);
        Assert.Equal(16384, consumer.Capacity);
        Assert.Equal(4096, consumer.MaxPayload);
        Assert.Same(channel.Low, consumer.Control);
    }
}
