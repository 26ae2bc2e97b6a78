using System.Text.RegularExpressions;
using XenVmc.Tests.Support;

namespace XenVmc.Tests.Packaging;

/// <summary>
/// packaging/completion/xenvmc, sourced into bash: it completes the commands and, per command, the
/// options that the built xenvmc's own --help lists (so a new option without completion fails here).
/// </summary>
public sealed partial class CompletionTests
{
    private static readonly string Script = Path.Combine(RepoRoot.Path, "packaging", "completion", "xenvmc");
    private static readonly string Program = Path.Combine(RepoRoot.Path, "bin", "xenvmc");

    /// <summary>What bash offers for the command line <paramref name="words"/> (the last one being completed).</summary>
    private static string[] Complete(params string[] words)
    {
        string line = string.Join(' ', words.Select(w => $"'{w}'"));
        var r = Proc.Run("bash", ["--norc", "--noprofile", "-c",
            $"source '{Script}'; COMP_WORDS=(xenvmc {line}); COMP_CWORD={words.Length}; _xenvmc; printf '%s\\n' \"${{COMPREPLY[@]}}\""]);
        Assert.True(r.Exit == 0, r.Err);
        return r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    [Fact]
    public void Commands_ByPrefix()
    {
        Assert.Equal(["stats", "status"], Complete("st").Order());
        Assert.Equal(["metrics"], Complete("m"));
        Assert.Equal(["--help", "--version"], Complete("--").Order());
        Assert.Equal(["--socket"], Complete("status", "--so"));
        Assert.Equal(["--count"], Complete("stats", "--watch", "2", "--co"));
        Assert.Equal(["@xenvmc-guest"], Complete("peers", "--socket", "@x"));
        Assert.Empty(Complete("routes", "--so"));
    }

    [Fact]
    public void EveryCommandAndOption_OfTheHelp_Completes()
    {
        string help = Proc.Run(Program, ["--help"]).Out;
        string[] commands = [.. CommandLine().Matches(help).Select(m => m.Groups[1].Value)];
        Assert.Equal(commands.Order(), Complete("").Where(w => !w.StartsWith('-')).Order());
        foreach (string command in commands)
        {
            string[] options = [.. OptionLine().Matches(Proc.Run(Program, [command, "--help"]).Out).Select(m => m.Groups[1].Value)];
            Assert.NotEmpty(options);
            Assert.Equal(options.Append("--help").Distinct().Order(), Complete(command, "--").Order());
        }
    }

    [GeneratedRegex(@"(?m)^  ([a-z]+) {2,}")]
    private static partial Regex CommandLine();

    [GeneratedRegex(@"(?m)^  (--[a-z-]+)")]
    private static partial Regex OptionLine();
}
