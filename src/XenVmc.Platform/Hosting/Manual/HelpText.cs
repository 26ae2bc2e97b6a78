using System.Text;

namespace XenVmc.Platform.Hosting.Manual;

/// <summary>Renders a <see cref="ProgramManual"/> as the text <c>--help</c> prints.</summary>
public static class HelpText
{
    private const int Width = 100;
    private const int OptionColumn = 28;

    public static string Render(ProgramManual m)
    {
        var o = new StringBuilder();
        o.Append(m.Name).Append(" — ").AppendLine(m.Summary).AppendLine();
        o.Append("usage: ").Append(m.Name).Append(' ').AppendLine(m.Synopsis);
        foreach (var c in m.Commands)
        {
            Item(o, c.Name, FirstSentence(c.Meaning), 12);
        }

        if (m.Commands.Count > 0)
        {
            Item(o, "--help", $"this text; `{m.Name} COMMAND --help` for one command", 12);
            Item(o, "--version", "the package version", 12);
            o.AppendLine().AppendLine("common options:");
        }

        foreach (var option in m.Options)
        {
            Item(o, Label(option), OptionText(option), OptionColumn);
        }

        foreach (string paragraph in m.Description)
        {
            o.AppendLine();
            Wrap(o, paragraph, "", Width);
        }

        if (m.ExitCodes.Count > 0)
        {
            o.AppendLine().AppendLine(m.Commands.Count > 0 ? "exit codes (every command):" : "exit codes:");
            foreach (var (code, meaning) in m.ExitCodes)
            {
                Item(o, code, meaning, 5);
            }
        }

        return o.ToString().TrimEnd();
    }

    /// <summary><c>xenvmc COMMAND --help</c>.</summary>
    public static string Render(ProgramManual m, CommandDoc c)
    {
        var o = new StringBuilder();
        o.Append("usage: ").Append(m.Name).Append(' ').AppendLine(c.Usage);
        Wrap(o, c.Meaning, "  ", Width);
        foreach (var option in c.Options)
        {
            Item(o, Label(option), OptionText(option), OptionColumn);
        }

        return o.ToString().TrimEnd();
    }

    public static string Label(OptionDoc option) =>
        option.Value is null ? option.Flag ?? option.Key ?? "" : $"{option.Flag} {option.Value}";

    /// <summary>The meaning, the default, and the configuration key in brackets.</summary>
    public static string OptionText(OptionDoc option)
    {
        string text = option.Meaning;
        if (option.Default is not null)
        {
            text += $" (default {option.Default})";
        }

        return option.Key is null || option.Flag is null ? text : $"{text} [{option.Key}]";
    }

    internal static string FirstSentence(string text)
    {
        int end = text.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? text.TrimEnd('.') : text[..end];
    }

    private static void Item(StringBuilder o, string label, string text, int column)
    {
        string head = "  " + label;
        if (text.Length == 0)
        {
            o.AppendLine(head);
            return;
        }

        if (head.Length + 1 >= column)
        {
            o.AppendLine(head);
            head = "";
        }

        Wrap(o, text, head.PadRight(column), Width, new string(' ', column));
    }

    /// <summary>Words into lines of at most <paramref name="width"/> columns.</summary>
    private static void Wrap(StringBuilder o, string text, string first, int width, string? rest = null)
    {
        rest ??= first;
        var line = new StringBuilder(first);
        bool empty = true;
        foreach (string word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!empty && line.Length + 1 + word.Length > width)
            {
                o.AppendLine(line.ToString());
                line.Clear().Append(rest);
                empty = true;
            }

            if (!empty)
            {
                line.Append(' ');
            }

            line.Append(word);
            empty = false;
        }

        o.AppendLine(line.ToString().TrimEnd());
    }
}
