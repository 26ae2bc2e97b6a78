using System.Buffers.Binary;
using System.Diagnostics;
using XenVmc.Packets;
using XenVmc.Rings;
using Xunit;
using Xunit.Abstractions;

namespace XenVmc.Rings.Tests;

/// <summary>
/// A producer and a consumer on two threads, with a semaphore per direction standing in for the
/// event channel. Each side sleeps only after its Prepare call says so and is woken only when
/// the other side's ConsumerNeedsNotify or Release says so: a lost wakeup shows up as a side
/// that sleeps past its deadline, and fails the test.
/// </summary>
public class RingProducerConsumerTests(ITestOutputHelper output)
{
    private static readonly TimeSpan WakeDeadline = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan RunDeadline = TimeSpan.FromSeconds(90);

    /// <summary>Multiplies the record counts, for longer soak runs (XENVMC_RING_STRESS_SCALE=50).</summary>
    private static readonly double Scale =
        double.TryParse(Environment.GetEnvironmentVariable("XENVMC_RING_STRESS_SCALE"), out double scale) ? scale : 1;

    [Theory]
    [InlineData("4 KiB ring, sleep and wake constantly", 12, 1024, 300_000, 0)]
    [InlineData("64 KiB ring, millions of records", 16, 2048, 3_000_000, 64)]
    [InlineData("512 KiB ring, 64 KiB super-packets", 19, PacketLimits.MaxFrameLength, 100_000, 64)]
    public void TransfersEveryRecordInOrderWithoutLostWakeups(string name, int ringSizeLog2, int maxPayload, int records, int spins)
    {
        records = (int)(records * Scale);
        using var channel = new TestChannel(ringSizeLog2, 12);
        RingProducer producer = channel.Producer(0, maxPayload);
        RingConsumer consumer = channel.Consumer(0, maxPayload);
        ulong seed = (ulong)Environment.TickCount64;
        byte[] source = new byte[(2 * maxPayload) + 64];
        new Random((int)seed).NextBytes(source);

        using var toConsumer = new SemaphoreSlim(0);
        using var toProducer = new SemaphoreSlim(0);
        string? failure = null;
        long producerWaits = 0, consumerSleeps = 0, consumerWakeups = 0, producerWakeups = 0, received = 0, bytes = 0;
        var stopwatch = Stopwatch.StartNew();

        var producerThread = new Thread(() =>
        {
            Span<byte> sequence = stackalloc byte[8];
            for (int i = 0; i < records && failure is null; i++)
            {
                (int length, int offset) = Shape((ulong)i, seed, maxPayload, source.Length);
                BinaryPrimitives.WriteUInt64LittleEndian(sequence, (ulong)i);
                ReadOnlySpan<byte> first = sequence[..Math.Min(8, length)];
                ReadOnlySpan<byte> second = source.AsSpan(offset, length - first.Length);
                if (i % 50_000 == 25_000)
                {
                    Thread.Sleep(2); // let the consumer drain and fall asleep
                }

                while (true)
                {
                    RingWriteStatus status = producer.TryWrite(first, second);
                    if (status == RingWriteStatus.Written)
                    {
                        if (producer.ConsumerNeedsNotify())
                        {
                            consumerWakeups++;
                            toConsumer.Release();
                        }

                        break;
                    }

                    if (status != RingWriteStatus.Full)
                    {
                        failure = $"producer: {status} at record {i}";
                        return;
                    }

                    if (producer.PrepareToWaitForSpace(length))
                    {
                        producerWaits++;
                        if (!toProducer.Wait(WakeDeadline))
                        {
                            failure = $"producer slept past the deadline waiting for space for record {i}: lost wakeup";
                            return;
                        }
                    }
                }
            }
        })
        { IsBackground = true, Name = "ring producer" };

        var consumerThread = new Thread(() =>
        {
            long next = 0;
            int idle = 0;
            while (next < records && failure is null)
            {
                RingReadStatus status = consumer.TryRead(out RingRecord record);
                if (status == RingReadStatus.Record)
                {
                    if (!Matches(record.Payload, (ulong)next, seed, maxPayload, source))
                    {
                        failure = $"record {next} arrived wrong (length {record.Payload.Length})";
                        return;
                    }

                    bytes += record.Payload.Length;
                    next++;
                    idle = 0;
                    if ((next & 15) == 0 && consumer.Release())
                    {
                        producerWakeups++;
                        toProducer.Release();
                    }

                    if (next % 50_000 == 0)
                    {
                        Thread.Sleep(2); // let the producer fill the ring and wait for space
                    }

                    continue;
                }

                if (status != RingReadStatus.Empty)
                {
                    failure = $"consumer: {status} at record {next}";
                    return;
                }

                // Drain the batch before sleeping: give the space back, then ask for a wakeup.
                if (consumer.Release())
                {
                    producerWakeups++;
                    toProducer.Release();
                }

                if (idle++ < spins)
                {
                    Thread.SpinWait(20);
                    continue;
                }

                idle = 0;
                if (consumer.PrepareToSleep())
                {
                    consumerSleeps++;
                    if (!toConsumer.Wait(WakeDeadline))
                    {
                        failure = $"consumer slept past the deadline waiting for record {next}: lost wakeup";
                        return;
                    }
                }
            }

            if (consumer.Release())
            {
                producerWakeups++;
                toProducer.Release();
            }

            received = next;
        })
        { IsBackground = true, Name = "ring consumer" };

        producerThread.Start();
        consumerThread.Start();
        bool finished = producerThread.Join(RunDeadline) & consumerThread.Join(RunDeadline);
        if (!finished)
        {
            failure ??= "timed out";
            toConsumer.Release();
            toProducer.Release();
        }

        output.WriteLine(
            $"{name}: {received:N0} records, {bytes / (1 << 20):N0} MiB in {stopwatch.Elapsed.TotalSeconds:F1} s; " +
            $"consumer slept {consumerSleeps:N0}x (woken {consumerWakeups:N0}x), producer waited {producerWaits:N0}x (woken {producerWakeups:N0}x)");
        Assert.Null(failure);
        Assert.Equal(records, received);
        Assert.False(producer.IsPeerCorrupt);
        Assert.False(consumer.IsPeerCorrupt);
        Assert.Equal(channel.Prod(0), channel.Cons(0));

        // The notification protocol was exercised in both directions.
        Assert.True(consumerSleeps > 0 && consumerWakeups > 0, "the consumer never slept");
        Assert.True(producerWaits > 0 && producerWakeups > 0, "the producer never waited");
    }

    [Fact]
    public void PerRecordCallsAllocateNothing()
    {
        using var channel = new TestChannel(16, 12);
        RingProducer producer = channel.Producer(0, 4096);
        RingConsumer consumer = channel.Consumer(0, 4096);
        byte[] vnet = new byte[10];
        byte[] packet = new byte[1500];
        long checksum = 0;

        checksum += Pump(producer, consumer, vnet, packet, 10_000); // JIT and tiering out of the way
        long before = GC.GetAllocatedBytesForCurrentThread();
        checksum += Pump(producer, consumer, vnet, packet, 200_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.True(checksum > 0);

        static long Pump(RingProducer producer, RingConsumer consumer, byte[] vnet, byte[] packet, int iterations)
        {
            long sum = 0;
            for (int i = 0; i < iterations; i++)
            {
                int length = 1 + (i % packet.Length);
                while (producer.TryWrite(vnet, packet.AsSpan(0, length)) != RingWriteStatus.Written)
                {
                    _ = producer.PrepareToWaitForSpace(length);
                    while (consumer.TryRead(out RingRecord record) == RingReadStatus.Record)
                    {
                        sum += record.Payload.Length;
                    }

                    _ = consumer.Release();
                }

                _ = producer.ConsumerNeedsNotify();
                if (i % 7 == 0)
                {
                    while (consumer.TryRead(out RingRecord record) == RingReadStatus.Record)
                    {
                        sum += record.Payload.Length;
                    }

                    _ = consumer.Release();
                    _ = consumer.PrepareToSleep();
                }
            }

            return sum;
        }
    }

    private static (int Length, int Offset) Shape(ulong sequence, ulong seed, int maxPayload, int sourceLength)
    {
        ulong mix = SplitMix(sequence ^ seed);
        return ((int)(mix % (ulong)maxPayload) + 1, (int)((mix >> 32) % (ulong)(sourceLength - maxPayload)));
    }

    private static bool Matches(ReadOnlySpan<byte> payload, ulong sequence, ulong seed, int maxPayload, byte[] source)
    {
        (int length, int offset) = Shape(sequence, seed, maxPayload, source.Length);
        if (payload.Length != length)
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(expected, sequence);
        int head = Math.Min(8, length);
        return payload[..head].SequenceEqual(expected[..head])
            && payload[head..].SequenceEqual(source.AsSpan(offset, length - head));
    }

    private static ulong SplitMix(ulong x)
    {
        x += 0x9E37_79B9_7F4A_7C15;
        x = (x ^ (x >> 30)) * 0xBF58_476D_1CE4_E5B9;
        x = (x ^ (x >> 27)) * 0x94D0_49BB_1331_11EB;
        return x ^ (x >> 31);
    }
}
