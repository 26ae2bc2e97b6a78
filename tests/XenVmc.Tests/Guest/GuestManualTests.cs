using XenVmc.Guest;
using XenVmc.Platform.Hosting.Manual;
using XenVmc.Tests.Support;

namespace XenVmc.Tests.Guest;

/// <summary>
/// xenvmc-guest's manual is the one source of its --help, its manual pages and README.md's
/// guest.json table: it names exactly the options the daemon accepts, its defaults are the ones
/// the configuration reader applies, and README.md holds the table it renders.
/// </summary>
public sealed class GuestManualTests
{
    [Fact]
    public void Options_AreExactlyTheOnesTheDaemonAccepts()
    {
        var page = GuestManual.Page;
        Assert.Equal(
            GuestConfiguration.CommandLineKeys.Keys.Concat(["--config", "--verbose", "--help", "--version"]).Order(),
            page.Options.Select(o => o.Flag!).Order());
        foreach (var (flag, key) in GuestConfiguration.CommandLineKeys)
        {
            Assert.Equal(key, page.Options.Single(o => o.Flag == flag).Key);
        }

        Assert.Equal(GuestConfiguration.Keys.Order(), page.ConfigurationOptions.Select(o => o.Key!).Order());
    }

    [Fact]
    public void Defaults_AreTheOnesTheReaderApplies()
    {
        var c = GuestConfiguration.Load(XenVmc.Platform.Hosting.CommandLine.Parse([], [], []), new Dictionary<string, string>(), "/nonexistent/guest.json");
        string? Default(string key) => GuestManual.Page.Options.Single(o => o.Key == key).Default;
        Assert.Equal(c.Platform, Default("Platform"));
        Assert.Equal(c.Options.Interface, Default("Interface"));
        Assert.Equal(c.Options.Mtu.ToString(System.Globalization.CultureInfo.InvariantCulture), Default("Mtu"));
        Assert.Equal((c.Options.RingBytes / 1024).ToString(System.Globalization.CultureInfo.InvariantCulture), Default("RingKiB"));
        Assert.Equal(c.Options.StatusSocket, Default("StatusSocket"));
        Assert.Equal(c.Options.PeerTimeout.TotalMilliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture), Default("PeerTimeoutMs"));
        Assert.Equal(c.Options.PollMicroseconds.ToString(System.Globalization.CultureInfo.InvariantCulture), Default("PollUs"));
        Assert.Equal(c.LogLevel.ToString(), Default("LogLevel"));
        Assert.Null(Default("PidFile"));
    }

    [Fact]
    public void Readme_HoldsTheRenderedTable()
    {
        string readme = File.ReadAllText(Path.Combine(RepoRoot.Path, "README.md"));
        Assert.True(readme.Contains(MarkdownTable.Configuration(GuestManual.Page), StringComparison.Ordinal),
            "README.md's guest.json table differs from GuestManual: paste the output of `bin/xenvmc-guest --man readme` into README.md");
    }

    [Fact]
    public void Help_ListsEveryOptionWithItsDefault()
    {
        string help = HelpText.Render(GuestManual.Page);
        foreach (var o in GuestManual.Page.Options)
        {
            Assert.Contains(HelpText.Label(o), help, StringComparison.Ordinal);
            if (o.Key is not null)
            {
                Assert.Contains($"[{o.Key}]", help, StringComparison.Ordinal);
            }
        }

        Assert.All(help.Split('\n'), line => Assert.True(line.Length <= 100, line));
    }
}
