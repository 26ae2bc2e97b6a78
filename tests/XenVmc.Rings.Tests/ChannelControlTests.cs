using System.Buffers.Binary;
using System.Runtime.InteropServices;
using XenVmc.Rings;
using Xunit;

namespace XenVmc.Rings.Tests;

public class ChannelControlTests
{
    [Fact]
    public void InitializeWritesTheHeader()
    {
        using var channel = new TestChannel(12, 20);
        ReadOnlySpan<byte> page = channel.HighPage.Span;
        Assert.Equal("58564d43" + "01000000" + "0c000000" + "14000000", Convert.ToHexStringLower(page[..16]));
        Assert.Equal((byte)ChannelLiveness.Connected, page[ChannelLayout.LiveOffset(ChannelSide.Low)]);
        Assert.Equal((byte)ChannelLiveness.NotYetConnected, page[ChannelLayout.LiveOffset(ChannelSide.High)]);

        // Everything else is zero, whatever the memory held before.
        for (int i = 16; i < page.Length; i++)
        {
            if (i != ChannelLayout.LiveOffset(ChannelSide.Low) && i != ChannelLayout.LiveOffset(ChannelSide.High))
            {
                Assert.True(page[i] == 0, $"byte {i} is {page[i]}");
            }
        }
    }

    [Fact]
    public void AttachingSideSeesTheSizes()
    {
        using var channel = new TestChannel(13, 16);
        Assert.Equal(13, channel.High.RingSizeLog2(0));
        Assert.Equal(16, channel.High.RingSizeLog2(1));
        Assert.Equal(8192, channel.High.RingSize(0));
        Assert.Equal(65536, channel.Low.RingSize(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => channel.High.RingSize(2));
    }

    public static TheoryData<string, int, uint> BadHeaders => new()
    {
        { "magic", ChannelLayout.MagicOffset, 0x434D5659 },
        { "magic zero", ChannelLayout.MagicOffset, 0 },
        { "version 0", ChannelLayout.VersionOffset, 0 },
        { "version 2", ChannelLayout.VersionOffset, 2 },
        { "ring0 2^11", ChannelLayout.Ring0SizeLog2Offset, 11 },
        { "ring0 2^25", ChannelLayout.Ring0SizeLog2Offset, 25 },
        { "ring1 2^0", ChannelLayout.Ring1SizeLog2Offset, 0 },
        { "ring1 huge", ChannelLayout.Ring1SizeLog2Offset, uint.MaxValue },
        { "ring1 2^32", ChannelLayout.Ring1SizeLog2Offset, 32 },
    };

    [Theory]
    [MemberData(nameof(BadHeaders))]
    public void AttachRefusesBadHeaders(string name, int offset, uint value)
    {
        using var channel = new TestChannel();
        BinaryPrimitives.WriteUInt32LittleEndian(channel.LowPage.Span[offset..], value);
        Assert.False(ChannelControl.TryAttach(channel.HighPage, out ChannelControl? control, out string? error), name);
        Assert.Null(control);
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void SizesAreReadOnceAtAttach()
    {
        using var channel = new TestChannel(12, 14);
        BinaryPrimitives.WriteUInt32LittleEndian(channel.LowPage.Span[ChannelLayout.Ring0SizeLog2Offset..], 24);
        BinaryPrimitives.WriteUInt32LittleEndian(channel.LowPage.Span[ChannelLayout.Ring1SizeLog2Offset..], 99);
        Assert.Equal(12, channel.High.RingSizeLog2(0));
        Assert.Equal(14, channel.High.RingSizeLog2(1));
        Assert.Equal(12, channel.Low.RingSizeLog2(0));
    }

    [Fact]
    public void LivenessIsSharedAndUnknownValuesReadAsGone()
    {
        using var channel = new TestChannel();
        Assert.Equal(ChannelLiveness.Connected, channel.High.GetLive(ChannelSide.Low));
        Assert.Equal(ChannelLiveness.NotYetConnected, channel.Low.GetLive(ChannelSide.High));

        channel.High.SetLive(ChannelSide.High, ChannelLiveness.Connected);
        Assert.Equal(ChannelLiveness.Connected, channel.Low.GetLive(ChannelSide.High));

        // What the Xen unmap notification does when High's mapping goes away: clear the byte.
        channel.LowPage.Span[ChannelLayout.LiveOffset(ChannelSide.High)] = 0;
        Assert.Equal(ChannelLiveness.Gone, channel.Low.GetLive(ChannelSide.High));

        channel.LowPage.Span[ChannelLayout.LiveOffset(ChannelSide.High)] = 7;
        Assert.Equal(ChannelLiveness.Gone, channel.Low.GetLive(ChannelSide.High));
        Assert.Equal(ChannelLiveness.Connected, channel.Low.GetLive(ChannelSide.Low));
    }

    [Fact]
    public void HeartbeatsAreSeparatePerSide()
    {
        using var channel = new TestChannel();
        Assert.Equal(0ul, channel.High.GetHeartbeat(ChannelSide.Low));
        for (int i = 0; i < 5; i++)
        {
            channel.Low.BeatHeart(ChannelSide.Low);
        }

        channel.High.BeatHeart(ChannelSide.High);
        Assert.Equal(5ul, channel.High.GetHeartbeat(ChannelSide.Low));
        Assert.Equal(1ul, channel.Low.GetHeartbeat(ChannelSide.High));
        Assert.Equal(5ul, BinaryPrimitives.ReadUInt64LittleEndian(channel.HighPage.Span[ChannelLayout.HeartbeatOffset(ChannelSide.Low)..]));
    }

    [Fact]
    public void HeartbeatsFromManyThreadsAreNotLost()
    {
        using var channel = new TestChannel();
        Parallel.For(0, 4, _ =>
        {
            for (int i = 0; i < 10_000; i++)
            {
                channel.Low.BeatHeart(ChannelSide.Low);
            }
        });
        Assert.Equal(40_000ul, channel.High.GetHeartbeat(ChannelSide.Low));
    }

    [Fact]
    public unsafe void InitializeValidatesItsArguments()
    {
        void* memory = NativeMemory.AlignedAlloc(8192, 4096);
        try
        {
            var page = new MemoryWindow((nint)memory, 4096);
            Assert.Throws<ArgumentException>(() => ChannelControl.Initialize(new MemoryWindow((nint)memory, 4095), 12, 12));
            Assert.Throws<ArgumentException>(() => ChannelControl.Initialize(new MemoryWindow((nint)memory + 8, 4096), 12, 12));
            Assert.Throws<ArgumentOutOfRangeException>(() => ChannelControl.Initialize(page, 11, 12));
            Assert.Throws<ArgumentOutOfRangeException>(() => ChannelControl.Initialize(page, 12, 25));
            Assert.Throws<ArgumentException>(() => ChannelControl.TryAttach(new MemoryWindow((nint)memory, 100), out _, out _));
            Assert.NotNull(ChannelControl.Initialize(page, 24, 12));
        }
        finally
        {
            NativeMemory.AlignedFree(memory);
        }
    }

    [Fact]
    public void MemoryWindowValidates()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new MemoryWindow(4096, -1));
        Assert.Throws<ArgumentException>(() => new MemoryWindow(0, 10));
        var empty = new MemoryWindow(0, 0);
        Assert.True(empty.Span.IsEmpty);
    }
}
