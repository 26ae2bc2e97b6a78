using XenVmc.Rings;
using Xunit;

namespace XenVmc.Rings.Tests;

/// <summary>TryReserve/Commit: filling a record in place gives the same ring contents as TryWrite.</summary>
public class RingProducerReserveTests
{
    private const int Max = 1024; // a quarter of a 4096-byte ring

    [Fact]
    public void CommittedRoom_IsARecordOfTheCommittedLength()
    {
        using var channel = new TestChannel();
        RingProducer producer = channel.Producer(0, Max);
        RingConsumer consumer = channel.Consumer(0, Max);

        Span<byte> room = producer.TryReserve(Max);
        Assert.Equal(Max, room.Length);
        "hello"u8.CopyTo(room);
        Assert.Equal(0u, channel.Prod(0)); // nothing published before Commit
        Assert.True(producer.Commit(5, Max));

        Assert.Equal(16u, channel.Prod(0));
        Assert.Equal(RingReadStatus.Record, consumer.TryRead(out RingRecord record));
        Assert.Equal("hello"u8.ToArray(), record.Payload.ToArray());
    }

    [Fact]
    public void Commit_WithoutReservation_OrLongerThanReserved_IsRefused()
    {
        using var channel = new TestChannel();
        RingProducer producer = channel.Producer(0, Max);
        Assert.False(producer.Commit(1, Max));
        Assert.False(producer.TryReserve(100).IsEmpty);
        Assert.False(producer.Commit(101, 100));
        Assert.False(producer.Commit(1, 100)); // the failed commit ended the reservation
        Assert.Equal(0u, channel.Prod(0));
        Assert.True(producer.TryReserve(Max + 1).IsEmpty);
    }

    [Fact]
    public void RoomThatWouldWrap_StartsAtOffsetZero_BehindPadding()
    {
        using var channel = new TestChannel();
        RingProducer producer = channel.Producer(0, Max);
        RingConsumer consumer = channel.Consumer(0, Max);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(RingWriteStatus.Written, producer.TryWrite(new byte[1016], default)); // 3 KiB used
        }

        Assert.Equal(RingWriteStatus.Written, producer.TryWrite(new byte[500], default)); // 508 bytes of tail left
        while (consumer.TryRead(out _) == RingReadStatus.Record)
        {
        }

        consumer.Release();
        Span<byte> room = producer.TryReserve(Max);
        Assert.Equal(Max, room.Length);
        room[..3].Fill(7);
        Assert.True(producer.Commit(3, Max));

        Assert.Equal(4096u + 16, channel.Prod(0));
        Assert.Equal(RingReadStatus.Record, consumer.TryRead(out RingRecord record));
        Assert.Equal(new byte[] { 7, 7, 7 }, record.Payload.ToArray());
        Assert.Equal(0, channel.OffsetInReadOnlyRing(0, record.Payload) - ChannelLayout.RecordHeaderSize);
    }

    [Fact]
    public void NoRoom_WhenTheRingLacksSpaceForTheMaximum()
    {
        using var channel = new TestChannel();
        RingProducer producer = channel.Producer(0, Max);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(RingWriteStatus.Written, producer.TryWrite(new byte[1016], default));
        }

        Assert.True(producer.TryReserve(1).IsEmpty);
        channel.Cons(0) = 1024; // 1024 bytes free: one byte short of a maximal record (8 + 1024, aligned)
        Assert.True(producer.TryReserve(Max).IsEmpty);
        Assert.Equal(1016, producer.TryReserve(1016).Length);
        channel.Cons(0) = 2048;
        Assert.Equal(Max, producer.TryReserve(Max).Length);
    }
}
