using XenVmc.Dom0;
using XenVmc.Platform.Hosting.Manual;
using XenVmc.Tests.Support;

namespace XenVmc.Tests.Dom0;

/// <summary>xenvmc-dom0's manual names exactly the options the daemon accepts and README.md holds the table it renders.</summary>
public sealed class Dom0ManualTests
{
    [Fact]
    public void Options_AreExactlyTheOnesTheDaemonAccepts()
    {
        var page = Dom0Manual.Page;
        Assert.Equal(
            Dom0Configuration.CommandLineKeys.Keys.Concat(["--config", "--verbose", "--help", "--version"]).Order(),
            page.Options.Select(o => o.Flag!).Order());
        foreach (var (flag, key) in Dom0Configuration.CommandLineKeys)
        {
            Assert.Equal(key, page.Options.Single(o => o.Flag == flag).Key);
        }

        // Every top-level key the reader knows is documented, through itself or its children.
        foreach (string key in Dom0Configuration.Keys)
        {
            Assert.Contains(page.ConfigurationOptions, o => o.Key == key || o.Key!.StartsWith(key + ":", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Defaults_AreTheOnesTheReaderApplies()
    {
        var c = Dom0Configuration.Load(XenVmc.Platform.Hosting.CommandLine.Parse([], [], []), new Dictionary<string, string>(), "/nonexistent/dom0.json");
        Assert.Equal(c.Pairing.Mode, Dom0Manual.Page.Options.Single(o => o.Key == "Pairing:Mode").Default);
        Assert.Equal(c.LogLevel.ToString(), Dom0Manual.Page.Options.Single(o => o.Key == "LogLevel").Default);
    }

    [Fact]
    public void Readme_HoldsTheRenderedTable()
    {
        string readme = File.ReadAllText(Path.Combine(RepoRoot.Path, "README.md"));
        Assert.True(readme.Contains(MarkdownTable.Configuration(Dom0Manual.Page), StringComparison.Ordinal),
            "README.md's dom0.json table differs from Dom0Manual: paste the output of `bin/xenvmc-dom0 --man readme` into README.md");
    }
}
