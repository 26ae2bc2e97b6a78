using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace XenVmc.Platform.Hosting;

/// <summary>
/// A daemon's configuration from, in rising precedence: the JSON file (<c>/etc/xenvmc/NAME.json</c>
/// unless <c>--config</c> names another), environment variables with the daemon's prefix
/// (<c>XENVMC_GUEST_MTU=9000</c>, <c>__</c> for nesting), and the command line. Every key is
/// checked against the options the daemon knows, so a misspelt option is refused instead of
/// silently ignored, and the typed getters refuse a wrong value naming the option and what is allowed.
/// </summary>
public sealed class DaemonConfiguration
{
    private readonly IConfiguration _root;

    private DaemonConfiguration(IConfiguration root, string source)
    {
        _root = root;
        Source = source;
    }

    /// <summary>
    /// Loads a daemon's configuration with its command line on top: each option in
    /// <paramref name="optionKeys"/> that was given overrides its key, <c>--verbose</c> means
    /// LogLevel Debug, and <c>--config PATH</c> names the file.
    /// </summary>
    public static DaemonConfiguration Load(
        CommandLine cl,
        IReadOnlyDictionary<string, string> optionKeys,
        string defaultFile,
        string envPrefix,
        IReadOnlyCollection<string> knownSections,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var overrides = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (option, key) in optionKeys)
        {
            if (cl.Get(option) is { } value)
            {
                overrides[key] = value;
            }
        }

        if (cl.Has("--verbose"))
        {
            overrides["LogLevel"] = "Debug";
        }

        return Load(defaultFile, cl.Get("--config"), envPrefix, overrides, knownSections, environment);
    }

    /// <summary>The file the configuration was read from, or a note that none was.</summary>
    public string Source { get; }

    /// <param name="defaultFile">read when present, e.g. /etc/xenvmc/guest.json</param>
    /// <param name="explicitFile">--config PATH: must exist</param>
    /// <param name="envPrefix">e.g. XENVMC_GUEST_</param>
    /// <param name="commandLine">option name → value, already checked by <see cref="CommandLine"/></param>
    /// <param name="knownSections">top-level keys allowed; a section's children are checked by its reader</param>
    /// <param name="environment">the environment to read (tests pass their own); null: the process's</param>
    public static DaemonConfiguration Load(
        string defaultFile,
        string? explicitFile,
        string envPrefix,
        IReadOnlyDictionary<string, string> commandLine,
        IReadOnlyCollection<string> knownSections,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var builder = new ConfigurationBuilder();
        string source = "no configuration file";
        string? file = explicitFile ?? (File.Exists(defaultFile) ? defaultFile : null);
        if (file is not null)
        {
            if (!File.Exists(file))
            {
                throw new ConfigurationException($"option --config: '{file}' does not exist; allowed: the path of a readable JSON file");
            }

            string full = Path.GetFullPath(file);
            CheckJson(full);
            builder.AddJsonFile(full, optional: false, reloadOnChange: false);
            source = full;
        }

        if (environment is null)
        {
            builder.AddEnvironmentVariables(envPrefix);
        }
        else
        {
            builder.AddInMemoryCollection(environment
                .Where(e => e.Key.StartsWith(envPrefix, StringComparison.OrdinalIgnoreCase))
                .Select(e => new KeyValuePair<string, string?>(e.Key[envPrefix.Length..].Replace("__", ":", StringComparison.Ordinal), e.Value)));
        }

        builder.AddCommandLine([.. commandLine.Select(kv => $"--{kv.Key}={kv.Value}")]);
        IConfigurationRoot root;
        try
        {
            root = builder.Build();
        }
        catch (Exception e) when (e is FormatException or InvalidDataException or IOException)
        {
            throw new ConfigurationException($"configuration file {source}: {e.Message}");
        }

        var known = knownSections.ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var child in root.GetChildren())
        {
            if (!known.Contains(child.Key))
            {
                string from = file is null ? $"the {envPrefix}* environment" : $"{source} or the {envPrefix}* environment";
                throw new ConfigurationException($"option {child.Key} (from {from}): unknown; allowed options: {string.Join(", ", knownSections)}");
            }
        }

        return new DaemonConfiguration(root, source);
    }

    /// <summary>The merged configuration (file, environment, command line), e.g. as the generic host's configuration.</summary>
    public IConfiguration Root => _root;

    public IConfigurationSection Section(string key) => _root.GetSection(key);

    public string? GetString(string key) => _root[key] is { Length: > 0 } value ? value : null;

    public string GetString(string key, string fallback) => GetString(key) ?? fallback;

    public int GetInt(string key, int fallback, int min, int max)
    {
        string? text = GetString(key);
        if (text is null)
        {
            return fallback;
        }

        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < min || value > max)
        {
            throw ConfigurationException.Refused(key, text, $"a whole number from {min} to {max}");
        }

        return value;
    }

    public string GetChoice(string key, string fallback, params string[] allowed)
    {
        string? text = GetString(key);
        if (text is null)
        {
            return fallback;
        }

        return allowed.FirstOrDefault(a => string.Equals(a, text, StringComparison.OrdinalIgnoreCase))
            ?? throw ConfigurationException.Refused(key, text, string.Join(", ", allowed));
    }

    public LogLevel GetLogLevel(string key, LogLevel fallback)
    {
        string[] names = ["Trace", "Debug", "Information", "Warning", "Error", "Critical"];
        string choice = GetChoice(key, fallback.ToString(), names);
        return Enum.Parse<LogLevel>(choice);
    }

    /// <summary>Keys below <paramref name="section"/> that are not in <paramref name="allowed"/> are refused.</summary>
    public void CheckChildren(string section, params string[] allowed)
    {
        var set = allowed.ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var child in _root.GetSection(section).GetChildren())
        {
            if (!set.Contains(child.Key))
            {
                throw new ConfigurationException($"option {section}:{child.Key}: unknown; allowed options under {section}: {string.Join(", ", allowed)}");
            }
        }
    }

    /// <summary>The JSON provider's own message for a syntax error does not say where; ours does.</summary>
    private static void CheckJson(string path)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new ConfigurationException($"configuration file {path}: the top level must be a JSON object {{ ... }}");
            }
        }
        catch (JsonException e)
        {
            throw new ConfigurationException($"configuration file {path}: not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}): {e.Message}");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new ConfigurationException($"configuration file {path}: {e.Message}");
        }
    }
}
