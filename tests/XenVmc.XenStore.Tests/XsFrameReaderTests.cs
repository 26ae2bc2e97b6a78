using XenVmc.XenStore.Protocol;

namespace XenVmc.XenStore.Tests;

public sealed class XsFrameReaderTests
{
    [Fact]
    public void Reads_nul_terminated_strings_in_order()
    {
        var reader = new XsFrameReader("a\0bc\0\0rest"u8);
        Assert.Equal("a", reader.ReadString());
        Assert.Equal("bc", reader.ReadString());
        Assert.Equal("", reader.ReadString());
        Assert.Equal(4, reader.Remaining);
        Assert.Equal("rest"u8.ToArray(), reader.ReadRest().ToArray());
        Assert.True(reader.End);
        reader.ExpectEnd();
    }

    [Fact]
    public void Unterminated_or_trailing_input_throws()
    {
        Assert.Throws<XsProtocolException>(() => new XsFrameReader("abc"u8).ReadString());
        Assert.Throws<XsProtocolException>(() =>
        {
            var reader = new XsFrameReader("a\0b"u8);
            reader.ReadString();
            reader.ExpectEnd();
        });
        Assert.Throws<XsProtocolException>(() => new XsFrameReader([0xff, 0xfe, 0]).ReadString());
    }
}
