using XenVmc.Tests.Support;

namespace XenVmc.Tests.Packaging;

/// <summary>The built daemons refuse a wrong configuration at start: non-zero exit, one line naming option, value and what is allowed.</summary>
public sealed class DaemonProgramTests
{
    private static (int Exit, string Out, string Err) Run(string program, IEnumerable<string> args, Dictionary<string, string?>? env = null)
    {
        string path = Path.Combine(RepoRoot.Path, "bin", program);
        Assert.True(File.Exists(path), $"{path} is missing: run ./build.sh first (./test.sh does)");
        return Proc.Run(path, args, env);
    }

    [Fact]
    public void Guest_BadConfigFile_Exits2_NamingTheOption()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.Combine("guest.json"), """{ "RingKiB": 300 }""");
        var (exit, stdout, stderr) = Run("xenvmc-guest", ["--config", dir.Combine("guest.json")]);
        Assert.Equal(2, exit);
        Assert.Equal("", stdout);
        Assert.Equal("xenvmc-guest: option RingKiB: '300' is not allowed; allowed: a whole number from 512 to 1024\n", stderr);
    }

    [Fact]
    public void Guest_BadEnvironment_Exits2_NamingTheOption()
    {
        var (exit, _, stderr) = Run("xenvmc-guest", [], new() { ["XENVMC_GUEST_LOGLEVEL"] = "noisy" });
        Assert.Equal(2, exit);
        Assert.Contains("option LogLevel: 'noisy'", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Dom0_BadPolicy_Exits2_NamingTheOption()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.Combine("dom0.json"), """{ "Pairing": { "DenyPairs": [ [ "web1" ] ] } }""");
        var (exit, _, stderr) = Run("xenvmc-dom0", ["--config", dir.Combine("dom0.json")]);
        Assert.Equal(2, exit);
        Assert.Contains("option Pairing:DenyPairs:0", stderr, StringComparison.Ordinal);
        Assert.Contains("exactly two guests", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("xenvmc-guest")]
    [InlineData("xenvmc-dom0")]
    public void HelpAndVersion(string program)
    {
        var help = Run(program, ["--help"]);
        Assert.Equal(0, help.Exit);
        Assert.Contains("--config PATH", help.Out, StringComparison.Ordinal);
        var version = Run(program, ["--version"]);
        Assert.Matches($@"^{program} \d+\.\d+\.\d+\n$", version.Out);
    }
}
