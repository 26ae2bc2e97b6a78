using XenVmc.XenStore.Protocol;

namespace XenVmc.XenStore.Tests;

public sealed class XsFrameTests
{
    [Fact]
    public void Finds_whole_frames_only()
    {
        byte[] frame = XsFrame.Encode(XsMessageType.Read, 9, 0, "/a\0"u8);
        Assert.Equal("02000000 09000000 00000000 03000000 2f6100".Replace(" ", ""), Hex.Of(frame));
        for (int cut = 0; cut < frame.Length; cut++)
        {
            Assert.False(XsFrame.TryParse(frame.AsSpan(0, cut), out _, out _));
        }

        Assert.True(XsFrame.TryParse([.. frame, .. frame], out XsHeader header, out int length));
        Assert.Equal(frame.Length, length);
        Assert.Equal(9u, header.RequestId);
    }

    [Fact]
    public void Oversized_length_is_refused_as_soon_as_the_header_is_complete()
    {
        byte[] header = new byte[16];
        new XsHeader(XsMessageType.Write, 1, 0, XsLimits.PayloadMax).Write(header);
        Assert.False(XsFrame.TryParse(header, out _, out _)); // legal, just incomplete
        new XsHeader(XsMessageType.Write, 1, 0, XsLimits.PayloadMax + 1).Write(header);
        Assert.Throws<XsProtocolException>(() => XsFrame.TryParse(header, out _, out _));
        Assert.Throws<ArgumentException>(() => XsFrame.Encode(XsMessageType.Write, 1, 0, new byte[XsLimits.PayloadMax + 1]));
    }

    [Fact]
    public void Limits_are_the_xs_wire_values()
    {
        Assert.Equal(4096, XsLimits.PayloadMax);
        Assert.Equal(3072, XsLimits.AbsPathMax);
        Assert.Equal(2048, XsLimits.RelPathMax);
        Assert.Equal(4080, XsLimits.DevicePayloadMax);
    }
}
