using XenVmc.Rings;
using Xunit;

namespace XenVmc.Rings.Tests;

public class ChannelLayoutTests
{
    [Fact]
    public void ControlPageOffsets()
    {
        Assert.Equal(4096, ChannelLayout.ControlPageSize);
        Assert.Equal(0, ChannelLayout.MagicOffset);
        Assert.Equal(4, ChannelLayout.VersionOffset);
        Assert.Equal(8, ChannelLayout.Ring0SizeLog2Offset);
        Assert.Equal(12, ChannelLayout.Ring1SizeLog2Offset);
        Assert.Equal(8, ChannelLayout.RingSizeLog2Offset(0));
        Assert.Equal(12, ChannelLayout.RingSizeLog2Offset(1));

        Assert.Equal(128, ChannelLayout.ProducerIndexOffset(0));
        Assert.Equal(132, ChannelLayout.ProducerWaitingOffset(0));
        Assert.Equal(256, ChannelLayout.ConsumerIndexOffset(0));
        Assert.Equal(260, ChannelLayout.ConsumerSleepingOffset(0));
        Assert.Equal(384, ChannelLayout.ProducerIndexOffset(1));
        Assert.Equal(388, ChannelLayout.ProducerWaitingOffset(1));
        Assert.Equal(512, ChannelLayout.ConsumerIndexOffset(1));
        Assert.Equal(516, ChannelLayout.ConsumerSleepingOffset(1));

        Assert.Equal(640, ChannelLayout.LiveOffset(ChannelSide.Low));
        Assert.Equal(648, ChannelLayout.HeartbeatOffset(ChannelSide.Low));
        Assert.Equal(768, ChannelLayout.LiveOffset(ChannelSide.High));
        Assert.Equal(776, ChannelLayout.HeartbeatOffset(ChannelSide.High));
        Assert.Equal(896, ChannelLayout.UsedLength);
    }

    private static IEnumerable<(string Name, int Offset, int Size, string Writer)> Fields()
    {
        yield return ("magic", ChannelLayout.MagicOffset, 4, "header");
        yield return ("version", ChannelLayout.VersionOffset, 4, "header");
        yield return ("ring0 log2", ChannelLayout.Ring0SizeLog2Offset, 4, "header");
        yield return ("ring1 log2", ChannelLayout.Ring1SizeLog2Offset, 4, "header");
        for (int ring = 0; ring < ChannelLayout.RingCount; ring++)
        {
            yield return ($"prod{ring}", ChannelLayout.ProducerIndexOffset(ring), 4, $"producer{ring}");
            yield return ($"producerWaiting{ring}", ChannelLayout.ProducerWaitingOffset(ring), 4, $"producer{ring}");
            yield return ($"cons{ring}", ChannelLayout.ConsumerIndexOffset(ring), 4, $"consumer{ring}");
            yield return ($"consumerSleeping{ring}", ChannelLayout.ConsumerSleepingOffset(ring), 4, $"consumer{ring}");
        }

        foreach (ChannelSide side in new[] { ChannelSide.Low, ChannelSide.High })
        {
            yield return ($"live {side}", ChannelLayout.LiveOffset(side), 1, $"live {side}");
            yield return ($"heartbeat {side}", ChannelLayout.HeartbeatOffset(side), 8, $"live {side}");
        }
    }

    [Fact]
    public void FieldsAreAlignedInsideThePageAndDisjoint()
    {
        var fields = Fields().ToList();
        Assert.Equal(16, fields.Count);
        foreach ((string name, int offset, int size, _) in fields)
        {
            Assert.True(offset % size == 0, $"{name} at {offset} is not {size}-aligned");
            Assert.InRange(offset + size, size, ChannelLayout.UsedLength);
        }

        foreach (var a in fields)
        {
            foreach (var b in fields.Where(f => f.Name != a.Name))
            {
                Assert.True(a.Offset + a.Size <= b.Offset || b.Offset + b.Size <= a.Offset, $"{a.Name} overlaps {b.Name}");
            }
        }
    }

    [Fact]
    public void EachWriterHasItsOwnLines()
    {
        // Fields written by different parties never share a 128-byte line (a pair of 64-byte
        // cache lines), so the producer's and the consumer's stores do not bounce one line.
        var lines = Fields().GroupBy(f => f.Offset / ChannelLayout.LineSize).ToList();
        foreach (var line in lines)
        {
            Assert.Single(line.Select(f => f.Writer).Distinct());
        }

        Assert.Equal(7, lines.Count);
        Assert.Equal(0, ChannelLayout.ProducerIndexOffset(0) % ChannelLayout.LineSize);
        Assert.Equal(0, ChannelLayout.ConsumerIndexOffset(0) % ChannelLayout.LineSize);
        Assert.Equal(0, ChannelLayout.LiveOffset(ChannelSide.High) % ChannelLayout.LineSize);
    }

    [Theory]
    [InlineData(0, 8)]
    [InlineData(1, 16)]
    [InlineData(7, 16)]
    [InlineData(8, 16)]
    [InlineData(9, 24)]
    [InlineData(1016, 1024)]
    [InlineData(65535, 65544)]
    [InlineData(65545, 65560)]
    public void RecordSizes(int payload, int size)
    {
        Assert.Equal(size, ChannelLayout.RecordSize(payload));
    }

    [Fact]
    public void RecordConstants()
    {
        Assert.Equal(8, ChannelLayout.RecordHeaderSize);
        Assert.Equal(8, ChannelLayout.RecordAlignment);
        Assert.Equal(1u, ChannelLayout.RecordKindPacket);
        Assert.Equal(2u, ChannelLayout.RecordKindPadding);
        Assert.Equal(1024, ChannelLayout.MaxPayloadLimit(12));
        Assert.Equal("XVMC"u8.ToArray(), BitConverter.GetBytes(ChannelLayout.Magic));
    }

    [Fact]
    public void RingsAreNamedByDirection()
    {
        Assert.Equal(ChannelLayout.Ring0, ChannelLayout.TransmitRing(ChannelSide.Low));
        Assert.Equal(ChannelLayout.Ring1, ChannelLayout.ReceiveRing(ChannelSide.Low));
        Assert.Equal(ChannelLayout.Ring1, ChannelLayout.TransmitRing(ChannelSide.High));
        Assert.Equal(ChannelLayout.Ring0, ChannelLayout.ReceiveRing(ChannelSide.High));
    }

    [Fact]
    public void InvalidRingsAndSidesThrow()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ChannelLayout.ProducerIndexOffset(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => ChannelLayout.ConsumerIndexOffset(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => ChannelLayout.RingSizeLog2Offset(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => ChannelLayout.LiveOffset((ChannelSide)2));
        Assert.Throws<ArgumentOutOfRangeException>(() => ChannelLayout.TransmitRing((ChannelSide)(-1)));
    }
}
