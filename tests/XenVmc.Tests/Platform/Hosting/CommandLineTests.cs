using XenVmc.Platform.Hosting;

namespace XenVmc.Tests.Platform.Hosting;

/// <summary>The daemons' command line: strict, and every error names the option it is about.</summary>
public sealed class CommandLineTests
{
    private static readonly string[] ValueOptions = ["--store", "--ring-kib", "--name"];
    private static readonly string[] Flags = ["--json", "--verbose"];

    private static CommandLine Parse(params string[] args) => CommandLine.Parse(args, ValueOptions, Flags);

    [Fact]
    public void ValuesFlagsAndPositionals_AreSeparated()
    {
        var line = Parse("status", "--store", "/run/xs", "--json", "extra", "--name=vm one");

        Assert.Equal("/run/xs", line.Get("--store"));
        Assert.Equal("vm one", line.Get("--name"));
        Assert.True(line.Has("--json"));
        Assert.Null(line.Get("--json"));
        Assert.False(line.Has("--verbose"));
        Assert.Equal(["status", "extra"], line.Positional);
    }

    [Theory]
    [InlineData("--name=a=b", "a=b")]   // only the first '=' separates
    [InlineData("--name=", "")]         // an explicit empty value is a value
    [InlineData("--name=--json", "--json")]
    public void InlineValue_IsTakenVerbatim(string arg, string expected) =>
        Assert.Equal(expected, Parse(arg).Get("--name"));

    [Fact]
    public void SeparateValue_MayLookLikeAnOption_AsWithGetopt()
    {
        var line = Parse("--name", "--json");

        Assert.Equal("--json", line.Get("--name"));
        Assert.False(line.Has("--json"));
    }

    [Fact]
    public void RepeatedOption_LastOneWins()
    {
        Assert.Equal("b", Parse("--name", "a", "--name=b").Get("--name"));
    }

    [Theory]
    [InlineData("--bogus", "--bogus")]
    [InlineData("--bogus=1", "--bogus")]
    [InlineData("--Store", "--Store")]      // case matters
    [InlineData("--json=yes", "--json")]    // a flag takes no value
    [InlineData("--", "--")]
    public void UnknownOption_NamesIt(string arg, string named)
    {
        var e = Assert.Throws<UsageException>(() => Parse("status", arg));

        Assert.Contains(named, e.Message);
        Assert.Contains("unknown option", e.Message);
    }

    [Fact]
    public void MissingValue_NamesTheOption()
    {
        var e = Assert.Throws<UsageException>(() => Parse("--json", "--store"));

        Assert.Contains("--store", e.Message);
        Assert.Contains("needs a value", e.Message);
    }

    [Fact]
    public void SingleDashAndPlainWords_ArePositional()
    {
        var line = Parse("-x", "word", "-");

        Assert.Equal(["-x", "word", "-"], line.Positional);
    }

    [Fact]
    public void GetWithFallback_UsesTheFallbackOnlyWhenAbsent()
    {
        Assert.Equal("dflt", Parse().Get("--store", "dflt"));
        Assert.Equal("/x", Parse("--store=/x").Get("--store", "dflt"));
    }

    [Theory]
    [InlineData("512", 512)]
    [InlineData("64", 64)]
    [InlineData("1024", 1024)]
    [InlineData("+100", 100)]
    public void GetInt_InRange(string text, int expected) =>
        Assert.Equal(expected, Parse("--ring-kib", text).GetInt("--ring-kib", 512, 64, 1024));

    [Fact]
    public void GetInt_Absent_IsTheFallback() =>
        Assert.Equal(512, Parse().GetInt("--ring-kib", 512, 64, 1024));

    [Theory]
    [InlineData("63")]
    [InlineData("1025")]
    [InlineData("0")]
    [InlineData("-512")]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("1e3")]
    [InlineData("0x200")]
    [InlineData("512.0")]
    [InlineData("99999999999")]
    [InlineData("2147483648")]
    public void GetInt_OutOfRangeOrNotANumber_NamesTheOptionAndTheBounds(string text)
    {
        var line = Parse("--ring-kib=" + text);

        var e = Assert.Throws<UsageException>(() => line.GetInt("--ring-kib", 512, 64, 1024));

        Assert.Contains("--ring-kib", e.Message);
        Assert.Contains("64", e.Message);
        Assert.Contains("1024", e.Message);
    }
}
