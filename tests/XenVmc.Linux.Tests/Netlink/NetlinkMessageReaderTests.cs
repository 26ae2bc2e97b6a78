using XenVmc.Linux.Interop;
using Xunit;

namespace XenVmc.Linux.Tests;

public class NetlinkMessageReaderTests
{
    [Fact]
    public void TwoMessagesInOneDatagram_AreReadInOrder_SkippingPadding()
    {
        byte[] datagram = Convert.FromHexString(
            "15000000" + "1800" + "0200" + "01000000" + "00000000" + "aabbccdd" + "ee" + "000000" // 21 bytes + 3 padding
            + "14000000" + "0300" + "0200" + "01000000" + "00000000" + "00000000"); // NLMSG_DONE, error 0
        var reader = new NetlinkMessageReader(datagram);

        Assert.True(reader.TryRead(out NetlinkMessage first));
        Assert.Equal(Libc.RTM_NEWROUTE, first.Type);
        Assert.Equal(Libc.NLM_F_MULTI, first.Flags);
        Assert.Equal("aabbccddee", Convert.ToHexStringLower(first.Payload));
        Assert.True(reader.TryRead(out NetlinkMessage second));
        Assert.Equal(Libc.NLMSG_DONE, second.Type);
        Assert.False(reader.TryRead(out _));
    }

    [Theory]
    [InlineData("0f000000" + "1800" + "0000" + "00000000" + "00000000")] // nlmsg_len 15 < header
    [InlineData("20000000" + "1800" + "0000" + "00000000" + "00000000")] // nlmsg_len 32 > datagram
    public void ImpossibleMessageLength_IsInvalidData(string hex)
    {
        byte[] datagram = Convert.FromHexString(hex);

        Assert.Throws<InvalidDataException>(() => new NetlinkMessageReader(datagram).TryRead(out _));
    }

    [Theory]
    [InlineData("0300" + "0100" + "00000000")] // rta_len 3 < header
    [InlineData("0900" + "0100" + "00000000")] // rta_len 9 > remaining 8
    public void ImpossibleAttributeLength_IsInvalidData(string hex)
    {
        byte[] attributes = Convert.FromHexString(hex);

        Assert.Throws<InvalidDataException>(() => new NetlinkAttributeReader(attributes).TryRead(out _, out _));
    }

    [Fact]
    public void AttributeTypeFlags_AreMasked()
    {
        byte[] attributes = Convert.FromHexString("0800" + "0880" + "01020304"); // NLA_F_NESTED | 8

        Assert.True(new NetlinkAttributeReader(attributes).TryRead(out ushort type, out ReadOnlySpan<byte> value));
        Assert.Equal(8, type);
        Assert.Equal(4, value.Length);
    }

    [Fact]
    public void HeaderShorterThanFamilyHeader_IsInvalidData()
    {
        byte[] datagram = Convert.FromHexString("14000000" + "1800" + "0000" + "01000000" + "00000000" + "02200000");
        var reader = new NetlinkMessageReader(datagram);
        Assert.True(reader.TryRead(out NetlinkMessage message));
        bool thrown = false;
        try
        {
            message.ReadHeader<Libc.rtmsg>();
        }
        catch (InvalidDataException)
        {
            thrown = true;
        }

        Assert.True(thrown);
    }

    [Fact]
    public void Ack_Success_IsZero()
    {
        byte[] datagram = Convert.FromHexString("24000000" + "0200" + "0001" + "05000000" + "00000000"
            + "00000000" + "10000000" + "1800" + "0505" + "05000000" + "00000000");

        Assert.Equal((Errno)0, ParseAck(datagram, out string? text));
        Assert.Null(text);
    }

    [Fact]
    public void Ack_CappedWithExtendedMessage_GivesErrnoAndText()
    {
        byte[] text = [.. "Nexthop device is not up"u8, 0];
        int attributeLength = 4 + text.Length;
        byte[] datagram =
        [
            .. Convert.FromHexString($"{36 + ((attributeLength + 3) & ~3):x2}000000" + "0200" + "0003" + "05000000" + "00000000"),
            .. Convert.FromHexString("edffffff" + "3c000000" + "1800" + "0505" + "05000000" + "00000000"), // -19 = ENODEV
            .. Convert.FromHexString($"{attributeLength:x2}00" + "0100"), .. text, .. new byte[((attributeLength + 3) & ~3) - attributeLength],
        ];

        Assert.Equal(Errno.ENODEV, ParseAck(datagram, out string? message));
        Assert.Equal("Nexthop device is not up", message);
    }

    [Fact]
    public void Ack_UncappedWithExtendedMessage_SkipsTheEchoedRequest()
    {
        byte[] echoed = Convert.FromHexString("18000000" + "1800" + "0505" + "05000000" + "00000000" + "0220000000fe56fd01");
        Array.Resize(ref echoed, 24); // echoed request, nlmsg_len 24
        byte[] text = [.. "bad"u8, 0];
        byte[] datagram =
        [
            .. Convert.FromHexString($"{16 + 4 + 24 + 8:x2}000000" + "0200" + "0002" + "05000000" + "00000000"),
            .. Convert.FromHexString("eaffffff"), .. echoed, // -22 = EINVAL
            .. Convert.FromHexString("0800" + "0100"), .. text,
        ];

        Assert.Equal(Errno.EINVAL, ParseAck(datagram, out string? message));
        Assert.Equal("bad", message);
    }

    private static Errno ParseAck(byte[] datagram, out string? text)
    {
        var reader = new NetlinkMessageReader(datagram);
        Assert.True(reader.TryRead(out NetlinkMessage message));
        Assert.Equal(Libc.NLMSG_ERROR, message.Type);
        return RtNetlink.ParseAck(message, out text);
    }
}
