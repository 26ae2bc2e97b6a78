using System.Text.RegularExpressions;
using XenVmc.Tests.Platform.Hosting.Manual;
using XenVmc.Tests.Support;

namespace XenVmc.Tests.Cli;

/// <summary>
/// xenvmc(1) and xenvmc's --help come from one manual (CliManual): every command that --help
/// lists, and every option its own --help lists, is in the rendered manual page.
/// </summary>
public sealed partial class CliManualTests
{
    private static readonly string Program = Path.Combine(RepoRoot.Path, "bin", "xenvmc");

    [Fact]
    public void ManPage_HasEveryCommandAndOptionOfTheHelp()
    {
        var man = Proc.Run(Program, ["--man", "1"]);
        Assert.Equal(0, man.Exit);
        string text = ManPageTests.Render(man.Out);
        string help = Proc.Run(Program, ["--help"]).Out;
        string[] commands = [.. CommandLine().Matches(help).Select(m => m.Groups[1].Value)];
        Assert.Contains("status", commands);
        Assert.Contains("routes", commands);
        foreach (string command in commands)
        {
            Assert.Contains("xenvmc " + command, text, StringComparison.Ordinal);
            var commandHelp = Proc.Run(Program, [command, "--help"]);
            Assert.Equal(0, commandHelp.Exit);
            foreach (Match option in OptionLine().Matches(commandHelp.Out))
            {
                Assert.Contains(option.Groups[1].Value, text, StringComparison.Ordinal);
            }
        }

        foreach (Match code in ExitCodeLine().Matches(help))
        {
            Assert.Matches($"(?m)^ +{code.Groups[1].Value} +[a-z]", text);
        }
    }

    [GeneratedRegex(@"(?m)^  ([a-z]+) {2,}")]
    private static partial Regex CommandLine();

    [GeneratedRegex(@"(?m)^  (--[a-z-]+)")]
    private static partial Regex OptionLine();

    [GeneratedRegex(@"(?m)^  ([0-9])  ")]
    private static partial Regex ExitCodeLine();
}
