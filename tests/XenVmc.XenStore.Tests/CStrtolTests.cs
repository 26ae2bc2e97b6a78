using XenVmc.XenStore.Protocol;

namespace XenVmc.XenStore.Tests;

public sealed class CStrtolTests
{
    [Theory]
    [InlineData("5", 5)]
    [InlineData("  12abc", 12)]
    [InlineData("-3", -3)]
    [InlineData("+7", 7)]
    [InlineData("abc", 0)]
    [InlineData("", 0)]
    [InlineData("0x10", 0)] // atoi is base 10
    [InlineData("4294967295", -1)] // glibc: strtol then truncation to int
    [InlineData("99999999999999999999", -1)] // saturates at LONG_MAX, then truncates
    public void Atoi_matches_glibc(string text, int expected)
    {
        Assert.Equal(expected, CStrtol.Atoi(text));
    }

    [Theory]
    [InlineData("0", 0L)]
    [InlineData("0x7FF0", 0x7FF0L)]
    [InlineData("0X1a", 26L)]
    [InlineData("010", 8L)]
    [InlineData("\t42", 42L)]
    [InlineData("-0x10", -16L)]
    [InlineData("9223372036854775807", long.MaxValue)]
    [InlineData("9223372036854775808", long.MaxValue)]
    [InlineData("-9223372036854775808", long.MinValue)]
    [InlineData("-9223372036854775809", long.MinValue)]
    public void Strtol_base0_whole(string text, long expected)
    {
        Assert.True(CStrtol.TryParseWhole(text, out long value));
        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("0x")]
    [InlineData("09")]
    [InlineData("1 ")]
    [InlineData("--1")]
    public void Strtol_base0_refuses_partial(string text)
    {
        Assert.False(CStrtol.TryParseWhole(text, out _));
    }
}
