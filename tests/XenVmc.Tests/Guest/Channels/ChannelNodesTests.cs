using XenVmc.Guest;
using XenVmc.Guest.Channels;
using XenVmc.Packets;
using XenVmc.Rings;

namespace XenVmc.Tests.Guest.Channels;

public sealed class ChannelNodesTests
{
    [Fact]
    public void MaxRecordPayload_HoldsTheLargestFrame_Aligned_AndFitsTheSmallestRing()
    {
        Assert.InRange(ChannelNodes.MaxRecordPayload, PacketLimits.MaxFrameLength, PacketLimits.MaxFrameLength + ChannelLayout.RecordAlignment - 1);
        Assert.Equal(0, ChannelNodes.MaxRecordPayload % ChannelLayout.RecordAlignment);
        int smallest = System.Numerics.BitOperations.Log2(GuestOptions.MinRingBytes);
        Assert.True(ChannelLayout.MaxPayloadLimit(smallest) >= ChannelNodes.MaxRecordPayload);
        Assert.True(ChannelLayout.MaxPayloadLimit(smallest - 1) < ChannelNodes.MaxRecordPayload);
    }

    [Fact]
    public void TheTunReadBufferIsOneFrame() => Assert.Equal(PacketLimits.MaxFrameLength, Linux.TunDevice.MaxPacketSize);
}
