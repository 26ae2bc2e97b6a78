using XenVmc.Dom0;
using XenVmc.Guest;
using XenVmc.Platform.Hosting.Manual;
using XenVmc.Tests.Support;

namespace XenVmc.Tests.Platform.Hosting.Manual;

/// <summary>
/// The manual pages as man-db renders them (<c>man -l</c>, groff): no warning, and every option
/// and configuration key of the program appears in the rendered text.
/// </summary>
public sealed class ManPageTests
{
    [Theory]
    [InlineData("\\", "\\e")]
    [InlineData(".TH not a macro", "\\&.TH not a macro")]
    [InlineData("'quote", "\\&'quote")]
    [InlineData("--mtu", "\\-\\-mtu")]
    public void Escape_NeutralisesRoffControlCharacters(string text, string roff) => Assert.Equal(roff, ManPage.Escape(text));

    public static TheoryData<string, int> Pages() => new()
    {
        { "xenvmc-guest", 1 }, { "xenvmc-guest", 5 }, { "xenvmc-dom0", 1 }, { "xenvmc-dom0", 5 },
    };

    [Theory]
    [MemberData(nameof(Pages))]
    public void Rendered_HasEveryOption_AndNoGroffWarning(string program, int section)
    {
        var manual = program == "xenvmc-guest" ? GuestManual.Page : Dom0Manual.Page;
        string roff = section == 1 ? ManPage.Program(manual, "9.9.9") : ManPage.Configuration(manual, "9.9.9");
        string text = Render(roff);
        Assert.Contains(section == 1 ? program : program + ".json", text, StringComparison.Ordinal);
        Assert.Contains("xenvmc 9.9.9", text, StringComparison.Ordinal);
        var expected = section == 1
            ? manual.Options.Select(o => o.Flag!)
            : manual.ConfigurationOptions.Select(o => o.Key!);
        foreach (string name in expected)
        {
            Assert.Contains(name, text, StringComparison.Ordinal);
        }
    }

    /// <summary>man -l with groff's warnings on; a warning fails the page.</summary>
    internal static string Render(string roff)
    {
        Proc.Require("man", "man-db");
        using var dir = new TempDirectory();
        string page = dir.Combine("page.1");
        File.WriteAllText(page, roff);
        var man = Proc.Run("man", ["--warnings", "-E", "UTF-8", "-l", page], new Dictionary<string, string?> { ["MANWIDTH"] = "200", ["MAN_KEEP_FORMATTING"] = null, ["PAGER"] = "cat" });
        Assert.True(man.Exit == 0, $"man -l exited {man.Exit}: {man.Err}");
        Assert.True(man.Err.Length == 0, $"groff warnings: {man.Err}");
        return man.Out.Replace("\u2010", "-", StringComparison.Ordinal);
    }
}
