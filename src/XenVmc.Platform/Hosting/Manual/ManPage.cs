using System.Text;

namespace XenVmc.Platform.Hosting.Manual;

/// <summary>
/// Renders a <see cref="ProgramManual"/> as a manual page in roff (man macros): the program's page
/// in section 1 and its configuration file's in section 5. Text is escaped so that a backslash,
/// a leading dot or quote, and a hyphen in an option name mean what they say.
/// </summary>
public static class ManPage
{
    /// <summary>The page name of a daemon's configuration file, e.g. <c>xenvmc-guest.json</c>.</summary>
    public static string ConfigurationPageName(ProgramManual m) => m.Name + ".json";

    public static string Program(ProgramManual m, string version)
    {
        var o = new StringBuilder();
        Header(o, m.Name, 1, version);
        o.AppendLine(".SH NAME").Append(Escape(m.Name)).Append(" \\- ").AppendLine(Escape(m.Summary));
        o.AppendLine(".SH SYNOPSIS").Append(".B ").AppendLine(Escape(m.Name)).AppendLine(Escape(m.Synopsis));
        if (m.Description.Count > 0)
        {
            o.AppendLine(".SH DESCRIPTION");
            Paragraphs(o, m.Description);
        }

        if (m.Commands.Count > 0)
        {
            o.AppendLine(".SH COMMANDS");
            foreach (var c in m.Commands)
            {
                o.AppendLine(".TP").Append(".B ").AppendLine(Escape(m.Name + " " + c.Usage));
                o.AppendLine(Escape(c.Meaning));
                if (c.Options.Count > 0)
                {
                    o.AppendLine(".RS");
                    Options(o, c.Options);
                    o.AppendLine(".RE");
                }
            }
        }

        if (m.Options.Count > 0)
        {
            o.AppendLine(m.Commands.Count > 0 ? ".SH COMMON OPTIONS" : ".SH OPTIONS");
            Options(o, m.Options);
        }

        if (m.ConfigurationFile is { } file)
        {
            o.AppendLine(".SH ENVIRONMENT");
            o.AppendLine(Escape($"Each option in brackets can also be set as {file.EnvironmentPrefix}KEY (\"__\" for \":\" in nested keys); the command line wins over the environment, which wins over {file.Path}."));
        }

        Tagged(o, "EXIT STATUS", m.ExitCodes);
        Tagged(o, "FILES", m.Files);
        SeeAlso(o, m.SeeAlso);
        return o.ToString();
    }

    public static string Configuration(ProgramManual m, string version)
    {
        var file = m.ConfigurationFile ?? throw new ArgumentException($"{m.Name} has no configuration file", nameof(m));
        var o = new StringBuilder();
        Header(o, ConfigurationPageName(m), 5, version);
        o.AppendLine(".SH NAME").Append(Escape(ConfigurationPageName(m))).Append(" \\- ").AppendLine(Escape($"configuration of {m.Name}"));
        o.AppendLine(".SH SYNOPSIS").AppendLine(Escape(file.Path));
        o.AppendLine(".SH DESCRIPTION");
        Paragraphs(o, file.Description);
        o.AppendLine(".SH OPTIONS");
        foreach (var option in m.ConfigurationOptions)
        {
            o.AppendLine(".TP").Append(".B ").AppendLine(Escape(option.Key!));
            var facts = new List<string>();
            if (option.Flag is not null)
            {
                facts.Add("command line " + option.Flag);
            }

            facts.Add("environment " + file.EnvironmentPrefix + option.Key!.ToUpperInvariant().Replace(":", "__", StringComparison.Ordinal));
            if (option.Default is not null)
            {
                facts.Add("default " + option.Default);
            }

            o.Append(".RI \"(\" ").Append(Quote(string.Join("; ", facts))).AppendLine(" \")\"");
            o.AppendLine(".br");
            o.AppendLine(Escape(option.Meaning));
        }

        o.AppendLine(".SH FILES").AppendLine(".TP").AppendLine(Escape(file.Path));
        o.AppendLine(Escape($"read at start when present; --config PATH names another file"));
        SeeAlso(o, [$"{m.Name}(1)", .. m.SeeAlso.Where(s => !s.StartsWith(ConfigurationPageName(m), StringComparison.Ordinal))]);
        return o.ToString();
    }

    private static void Header(StringBuilder o, string name, int section, string version) =>
        o.Append(".TH ").Append(Quote(name.ToUpperInvariant())).Append(' ').Append(section)
            .Append(" \"\" ").Append(Quote($"xenvmc {version}")).AppendLine(" \"XenVMC\"");

    private static void Options(StringBuilder o, IEnumerable<OptionDoc> options)
    {
        foreach (var option in options)
        {
            o.AppendLine(".TP");
            string label = option.Flag ?? option.Key ?? "";
            if (option.Value is null)
            {
                o.Append(".B ").AppendLine(Quote(label));
            }
            else
            {
                o.Append(".BI ").Append(Quote(label + " ")).Append(' ').AppendLine(Quote(option.Value));
            }

            o.AppendLine(Escape(HelpText.OptionText(option)));
        }
    }

    private static void Paragraphs(StringBuilder o, IEnumerable<string> paragraphs)
    {
        bool first = true;
        foreach (string p in paragraphs)
        {
            if (!first)
            {
                o.AppendLine(".PP");
            }

            o.AppendLine(Escape(p));
            first = false;
        }
    }

    private static void Tagged(StringBuilder o, string section, IReadOnlyList<(string Tag, string Text)> items)
    {
        if (items.Count == 0)
        {
            return;
        }

        o.Append(".SH ").AppendLine(section);
        foreach (var (tag, text) in items)
        {
            o.AppendLine(".TP").Append(".B ").AppendLine(Escape(tag)).AppendLine(Escape(text));
        }
    }

    private static void SeeAlso(StringBuilder o, IReadOnlyList<string> pages)
    {
        if (pages.Count == 0)
        {
            return;
        }

        o.AppendLine(".SH SEE ALSO");
        o.AppendLine(string.Join(",\n", pages.Select(p =>
        {
            int open = p.LastIndexOf('(');
            return open < 0 ? Escape(p) : $".BR {Escape(p[..open])} {p[open..]}";
        })));
    }

    /// <summary>Text for a roff line: backslashes doubled, a leading control character neutralised, hyphens literal.</summary>
    public static string Escape(string text)
    {
        string escaped = text.Replace("\\", "\\e", StringComparison.Ordinal).Replace("-", "\\-", StringComparison.Ordinal);
        return escaped.Length > 0 && (escaped[0] == '.' || escaped[0] == '\'') ? "\\&" + escaped : escaped;
    }

    private static string Quote(string text) => "\"" + Escape(text).Replace("\"", "\\(dq", StringComparison.Ordinal) + "\"";
}
