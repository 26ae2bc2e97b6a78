using System.Buffers.Binary;
using XenVmc.Rings;
using Xunit;

namespace XenVmc.Rings.Tests;

public class RingProducerTests
{
    private const int Max = 1024; // a quarter of a 4096-byte ring

    [Fact]
    public void WritesOneRecordInTheDocumentedLayout()
    {
        using var channel = new TestChannel();
        RingProducer producer = channel.Producer(0, Max);
        Assert.Equal(RingWriteStatus.Written, producer.TryWrite("abc"u8, "de"u8));

        Assert.Equal(16u, channel.Prod(0));
        Assert.Equal("05000000" + "01000000" + "6162636465", Convert.ToHexStringLower(channel.WritableRing(0).Span[..13]));
        Assert.Equal(0u, channel.Prod(1)); // the other ring is untouched
    }

    [Fact]
    public void PayloadLimitIsTheSumOfBothParts()
    {
        using var channel = new TestChannel();
        RingProducer producer = channel.Producer(0, Max);
        Assert.Equal(RingWriteStatus.Written, producer.TryWrite(new byte[10], new byte[Max - 10]));
        Assert.Equal(RingWriteStatus.TooLarge, producer.TryWrite(new byte[10], new byte[Max - 9]));
        Assert.Equal(RingWriteStatus.TooLarge, producer.TryWrite(new byte[Max + 1], default));
        Assert.Equal(RingWriteStatus.Written, producer.TryWrite(default, default));
        Assert.Equal((uint)(ChannelLayout.RecordSize(Max) + 8), channel.Prod(0));
    }

    [Fact]
    public void FillsTheRingExactlyThenReportsFull()
    {
        using var channel = new TestChannel();
        RingProducer producer = channel.Producer(0, Max);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(RingWriteStatus.Written, producer.TryWrite(new byte[1016], default)); // 1024-byte records
        }

        Assert.Equal(4096u, channel.Prod(0));
        Assert.Equal(RingWriteStatus.Full, producer.TryWrite(default, default));
        Assert.Equal(RingWriteStatus.Full, producer.TryWrite(new byte[1], default));
        Assert.Equal(4096u, channel.Prod(0));

        channel.Cons(0) = 8; // the consumer released 8 bytes: still not enough for a 1024-byte record at offset 0
        Assert.Equal(RingWriteStatus.Written, producer.TryWrite(default, default));
        Assert.Equal(RingWriteStatus.Full, producer.TryWrite(default, default));
        channel.Cons(0) = 1024;
        Assert.Equal(RingWriteStatus.Full, producer.TryWrite(new byte[1016], default)); // 1016 bytes free at 8, 1024 needed
        Assert.Equal(RingWriteStatus.Written, producer.TryWrite(new byte[1008], default));
        Assert.False(producer.IsPeerCorrupt);
    }

    [Fact]
    public void RecordThatDoesNotFitBeforeTheEndIsPrecededByPadding()
    {
        using var channel = new TestChannel();
        channel.Prod(0) = channel.Cons(0) = 4096 - 40;
        RingProducer producer = channel.Producer(0, Max);
        Assert.Equal(RingWriteStatus.Written, producer.TryWrite(new byte[24], default)); // 32 bytes: fits, 8 left
        Assert.Equal(RingWriteStatus.Written, producer.TryWrite([7, 7, 7], default));    // 16 bytes: padding 8, record at 0

        Span<byte> data = channel.WritableRing(0).Span;
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(data[4088..]));
        Assert.Equal(ChannelLayout.RecordKindPadding, BinaryPrimitives.ReadUInt32LittleEndian(data[4092..]));
        Assert.Equal("03000000" + "01000000" + "070707", Convert.ToHexStringLower(data[..11]));
        Assert.Equal(4096u + 16, channel.Prod(0));
    }

    [Fact]
    public void PaddingCountsAgainstFreeSpace()
    {
        using var channel = new TestChannel();
        channel.Prod(0) = 4096 + 3000;
        channel.Cons(0) = 4096 + 1000; // 2000 used, 2096 free, 1096 before the end
        RingProducer producer = channel.Producer(0, Max);
        Assert.Equal(RingWriteStatus.Written, producer.TryWrite(new byte[1016], default)); // 1024 fit before the end
        Assert.Equal(RingWriteStatus.Full, producer.TryWrite(new byte[1016], default));    // 72 padding + 1024 > 1072 free
        Assert.Equal(RingWriteStatus.Written, producer.TryWrite(new byte[992], default));  // 72 + 1000 = 1072
        Assert.Equal(4096u + 1000 + 4096, channel.Prod(0));
    }

    [Fact]
    public void StartsFromTheIndicesInSharedMemory()
    {
        using var channel = new TestChannel();
        channel.Prod(0) = 0xFFFF_FFF0;
        channel.Cons(0) = 0xFFFF_FF00;
        RingProducer producer = channel.Producer(0, Max);
        Assert.Equal(RingWriteStatus.Written, producer.TryWrite(new byte[8], default));
        Assert.Equal(0u, channel.Prod(0)); // free-running index wrapped past 2^32
    }

    public static TheoryData<string, uint, uint> CorruptAtStart => new()
    {
        { "prod unaligned", 4, 0 },
        { "cons unaligned", 8, 4 },
        { "cons beyond prod", 8, 16 },
        { "more than a ring apart", 4096 + 8, 0 },
    };

    [Theory]
    [MemberData(nameof(CorruptAtStart))]
    public void ImpossibleIndicesAtStartAreCorrupt(string name, uint prod, uint cons)
    {
        using var channel = new TestChannel();
        channel.Prod(0) = prod;
        channel.Cons(0) = cons;
        RingProducer producer = channel.Producer(0, Max);
        Assert.True(producer.IsPeerCorrupt, name);
        Assert.Equal(RingWriteStatus.PeerCorrupt, producer.TryWrite(default, default));
        Assert.False(producer.PrepareToWaitForSpace(0));
        Assert.Equal(prod, channel.Prod(0));
    }

    public static TheoryData<string, uint> HostileCons => new()
    {
        { "unaligned", 1028 },
        { "beyond prod", 5120 + 8 },
        { "far beyond prod", 0x8000_0000 },
        { "backwards", 0xFFFF_FFF8 },
    };

    [Theory]
    [MemberData(nameof(HostileCons))]
    public void ImpossibleConsIsCorruptForGood(string name, uint cons)
    {
        using var channel = new TestChannel();
        RingProducer producer = channel.Producer(0, Max);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(RingWriteStatus.Written, producer.TryWrite(new byte[1016], default));
        }

        channel.Cons(0) = 1024;
        Assert.Equal(RingWriteStatus.Written, producer.TryWrite(new byte[1016], default)); // accepts 1024

        channel.Cons(0) = cons;
        Assert.True(RingWriteStatus.PeerCorrupt == producer.TryWrite(new byte[1016], default), name);
        Assert.True(producer.IsPeerCorrupt);

        channel.Cons(0) = 4096; // even a sane value later is not trusted
        Assert.Equal(RingWriteStatus.PeerCorrupt, producer.TryWrite(default, default));
        Assert.Equal(4096u + 1024, channel.Prod(0));
    }

    [Fact]
    public void ConsIsOnlyReadWhenTheKnownSpaceIsNotEnough()
    {
        using var channel = new TestChannel();
        RingProducer producer = channel.Producer(0, Max);
        channel.Cons(0) = 12345; // impossible, but the producer has no reason to look yet
        Assert.Equal(RingWriteStatus.Written, producer.TryWrite(new byte[100], default));
        Assert.False(producer.IsPeerCorrupt);
    }

    [Fact]
    public void ConsumerNeedsNotifyFetchesAndClearsTheSleepingFlag()
    {
        using var channel = new TestChannel();
        RingProducer producer = channel.Producer(0, Max);
        Assert.False(producer.ConsumerNeedsNotify());

        channel.ConsumerSleeping(0) = 1;
        Assert.Equal(RingWriteStatus.Written, producer.TryWrite([1], default));
        Assert.True(producer.ConsumerNeedsNotify());
        Assert.Equal(0u, channel.ConsumerSleeping(0));
        Assert.False(producer.ConsumerNeedsNotify());

        channel.ConsumerSleeping(0) = 0xDEAD; // any non-zero value counts
        Assert.True(producer.ConsumerNeedsNotify());
        Assert.Equal(0u, channel.ConsumerSleeping(1));
    }

    [Fact]
    public void PrepareToWaitForSpaceSetsTheFlagOnlyWhenItMustSleep()
    {
        using var channel = new TestChannel();
        RingProducer producer = channel.Producer(0, Max);
        Assert.False(producer.PrepareToWaitForSpace(Max));
        Assert.Equal(0u, channel.ProducerWaiting(0));

        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(RingWriteStatus.Written, producer.TryWrite(new byte[1016], default));
        }

        Assert.True(producer.PrepareToWaitForSpace(0));
        Assert.Equal(1u, channel.ProducerWaiting(0));

        channel.Cons(0) = 1024; // space appeared between the failed write and the wait
        Assert.False(producer.PrepareToWaitForSpace(1016));
        Assert.Equal(0u, channel.ProducerWaiting(0));

        Assert.Throws<ArgumentOutOfRangeException>(() => producer.PrepareToWaitForSpace(Max + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => producer.PrepareToWaitForSpace(-1));
    }

    [Fact]
    public void ConstructorValidatesGeometry()
    {
        using var channel = new TestChannel(12, 13);
        Assert.Throws<ArgumentException>(() => new RingProducer(channel.Low, 1, channel.WritableRing(0), Max)); // 4096-byte window for an 8192-byte ring
        Assert.Throws<ArgumentOutOfRangeException>(() => new RingProducer(channel.Low, 0, channel.WritableRing(0), Max + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RingProducer(channel.Low, 0, channel.WritableRing(0), -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RingProducer(channel.Low, 2, channel.WritableRing(0), Max));
        Assert.Throws<ArgumentNullException>(() => new RingProducer(null!, 0, channel.WritableRing(0), Max));
        var misaligned = new MemoryWindow(channel.WritableRing(1).Address + 4, 8192);
        Assert.Throws<ArgumentException>(() => new RingProducer(channel.High, 1, misaligned, Max));
        RingProducer producer = channel.Producer(1, 2048);
        Assert.Equal(8192, producer.Capacity);
        Assert.Equal(2048, producer.MaxPayload);
        Assert.Same(channel.High, producer.Control);
    }
}
