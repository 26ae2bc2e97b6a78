namespace XenVmc.XenStore.Tests;

public sealed class XsPermissionTests
{
    [Theory]
    [InlineData("n0", XsAccess.None, 0u)]
    [InlineData("r5", XsAccess.Read, 5u)]
    [InlineData("w3", XsAccess.Write, 3u)]
    [InlineData("b7", XsAccess.Both, 7u)]
    [InlineData("r0x1f", XsAccess.Read, 31u)] // strtol base 0: hex
    [InlineData("r017", XsAccess.Read, 15u)] // and octal
    [InlineData("r 9", XsAccess.Read, 9u)] // leading space is skipped by strtol
    [InlineData("r+4", XsAccess.Read, 4u)]
    [InlineData("r-1", XsAccess.Read, 0xFFFFFFFFu)] // long -1 truncated to u32
    [InlineData("b32768", XsAccess.Both, 32768u)]
    public void Parses_like_xenstored(string text, XsAccess access, uint domid)
    {
        Assert.True(XsPermission.TryParse(text, out XsPermission p));
        Assert.Equal(new XsPermission(access, domid), p);
        Assert.Equal(p, XsPermission.Parse(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("r")] // no number at all
    [InlineData("x5")]
    [InlineData("R5")]
    [InlineData("r5 ")] // strtol stops at the space: *end != 0
    [InlineData("r5x")]
    [InlineData("r0x")] // "0" parsed, "x" left over
    [InlineData("r-")]
    [InlineData("r08")] // octal stops at 8
    [InlineData(null)]
    public void Refuses_what_xenstored_refuses(string? text)
    {
        Assert.False(XsPermission.TryParse(text, out _));
        if (text is not null)
        {
            Assert.Throws<FormatException>(() => XsPermission.Parse(text));
        }
    }

    [Theory]
    [InlineData(XsAccess.None, 0u, "n0")]
    [InlineData(XsAccess.Read, 5u, "r5")]
    [InlineData(XsAccess.Write, 3u, "w3")]
    [InlineData(XsAccess.Both, 7u, "b7")]
    [InlineData(XsAccess.Read, 0xFFFFFFFFu, "r-1")] // printed with %i as xenstored does
    public void Formats_like_xenstored(XsAccess access, uint domid, string expected)
    {
        Assert.Equal(expected, new XsPermission(access, domid).ToString());
    }

    [Fact]
    public void Round_trips_over_random_values()
    {
        var random = new Random(1234);
        for (int i = 0; i < 2000; i++)
        {
            var p = new XsPermission((XsAccess)random.Next(4), (uint)random.NextInt64(0, 1L << 32));
            Assert.Equal(p, XsPermission.Parse(p.ToString()));
        }
    }
}
