namespace XenVmc.Platform.Hosting;

/// <summary>
/// A small, strict reader for <c>--name value</c> and <c>--flag</c> arguments: an unknown option
/// or a missing value is an error that names the option, never a silent default.
/// </summary>
public sealed class CommandLine
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    private readonly List<string> _positional = [];

    private CommandLine()
    {
    }

    public IReadOnlyList<string> Positional => _positional;

    /// <param name="valueOptions">options that take a value, e.g. "--store"</param>
    /// <param name="flags">options that do not, e.g. "--json"</param>
    public static CommandLine Parse(IReadOnlyList<string> args, IEnumerable<string> valueOptions, IEnumerable<string> flags)
    {
        var withValue = valueOptions.ToHashSet(StringComparer.Ordinal);
        var withoutValue = flags.ToHashSet(StringComparer.Ordinal);
        var result = new CommandLine();
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                result._positional.Add(arg);
                continue;
            }

            string name = arg;
            string? inline = null;
            int equals = arg.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                name = arg[..equals];
                inline = arg[(equals + 1)..];
            }

            if (withoutValue.Contains(name) && inline is null)
            {
                result._values[name] = null;
            }
            else if (withValue.Contains(name))
            {
                string? value = inline ?? (i + 1 < args.Count ? args[++i] : null);
                result._values[name] = value ?? throw new UsageException($"option {name} needs a value");
            }
            else
            {
                throw new UsageException($"unknown option {name}");
            }
        }

        return result;
    }

    public bool Has(string name) => _values.ContainsKey(name);

    public string? Get(string name) => _values.GetValueOrDefault(name);

    public string Get(string name, string fallback) => _values.GetValueOrDefault(name) ?? fallback;

    public int GetInt(string name, int fallback, int min, int max)
    {
        string? text = Get(name);
        if (text is null)
        {
            return fallback;
        }

        if (!int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int value) || value < min || value > max)
        {
            throw new UsageException($"option {name}: '{text}' is not a whole number from {min} to {max}");
        }

        return value;
    }
}

/// <summary>A wrong command line: the message says what and the program exits with status 2.</summary>
public sealed class UsageException(string message) : Exception(message);
