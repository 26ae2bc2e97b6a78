using System.Text;

namespace XenVmc.Platform.Hosting.Manual;

/// <summary>README.md's table of a daemon's configuration options, rendered from its <see cref="ProgramManual"/>.</summary>
public static class MarkdownTable
{
    public static string Configuration(ProgramManual m)
    {
        var o = new StringBuilder();
        o.Append("| option | command line | default | allowed, meaning |\n|---|---|---|---|\n");
        foreach (var option in m.ConfigurationOptions)
        {
            string flag = option.Flag is null ? "—" : $"`{option.Flag}`";
            string value = option.Default is null ? "—" : $"`{option.Default}`";
            o.Append($"| `{option.Key}` | {flag} | {value} | {option.Meaning.Replace("|", "\\|", StringComparison.Ordinal)} |\n");
        }

        return o.ToString();
    }
}
