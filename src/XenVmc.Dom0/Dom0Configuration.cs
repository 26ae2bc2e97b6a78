using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using XenVmc.Platform.Hosting;
using XenVmc.Platform.Layout;

namespace XenVmc.Dom0;

/// <summary>
/// Everything xenvmc-dom0 reads at start: <c>/etc/xenvmc/dom0.json</c>, then <c>XENVMC_DOM0_*</c>
/// environment variables, then the command line. README.md documents each option.
/// </summary>
public sealed record Dom0Configuration(string? Store, string? PidFile, LogLevel LogLevel, PairingRules Pairing, string Source) : IDaemonOptions
{
    public const string DefaultFile = "/etc/xenvmc/dom0.json";
    public const string EnvironmentPrefix = "XENVMC_DOM0_";

    public static readonly IReadOnlyDictionary<string, string> CommandLineKeys = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["--store"] = "Store",
        ["--pid-file"] = "PidFile",
        ["--log-level"] = "LogLevel",
        ["--pairing"] = "Pairing:Mode",
    };

    public static readonly string[] Keys = ["Store", "PidFile", "LogLevel", "Pairing"];
    private static readonly string[] PairingKeys = ["Mode", "Groups", "Deny", "DenyPairs", "Bridges", "IgnoreFilters", "Prefixes"];

    public static Dom0Configuration Load(CommandLine cl, IReadOnlyDictionary<string, string>? environment = null, string defaultFile = DefaultFile) =>
        From(Read(cl, environment, defaultFile));

    /// <summary>Reads the file, the environment and the command line, refusing unknown keys; <see cref="From"/> binds and checks the values.</summary>
    public static DaemonConfiguration Read(CommandLine cl, IReadOnlyDictionary<string, string>? environment = null, string defaultFile = DefaultFile) =>
        DaemonConfiguration.Load(cl, CommandLineKeys, defaultFile, EnvironmentPrefix, Keys, environment);

    public static Dom0Configuration From(DaemonConfiguration config)
    {
        string? store = config.GetString("Store");
        if (store is not null && !Path.IsPathRooted(store))
        {
            throw ConfigurationException.Refused("Store", store, "an absolute path of the xenstored socket or /dev/xen/xenbus");
        }

        string? pidFile = config.GetString("PidFile");
        if (pidFile is not null && !Path.IsPathRooted(pidFile))
        {
            throw ConfigurationException.Refused("PidFile", pidFile, "an absolute path");
        }

        return new Dom0Configuration(store, pidFile, config.GetLogLevel("LogLevel", LogLevel.Information), ReadPairing(config), config.Source);
    }

    private static PairingRules ReadPairing(DaemonConfiguration config)
    {
        config.CheckChildren("Pairing", PairingKeys);
        string mode = config.GetChoice("Pairing:Mode", PairingRules.SameBridge, PairingRules.SameBridge, PairingRules.Groups);
        var groups = new Dictionary<string, IReadOnlySet<string>>(StringComparer.Ordinal);
        foreach (var group in config.Section("Pairing:Groups").GetChildren())
        {
            var members = Names(group, $"Pairing:Groups:{group.Key}");
            if (members.Count < 2)
            {
                throw ConfigurationException.Refused($"Pairing:Groups:{group.Key}", string.Join(",", members), "a list of at least two guests (domain names or domids)");
            }

            groups[group.Key] = members;
        }

        if (mode == PairingRules.Groups && groups.Count == 0)
        {
            throw ConfigurationException.Refused("Pairing:Mode", mode, $"'{PairingRules.SameBridge}', or '{PairingRules.Groups}' together with at least one group under Pairing:Groups");
        }

        var denyPairs = new List<(string, string)>();
        foreach (var pair in config.Section("Pairing:DenyPairs").GetChildren())
        {
            string[] names = [.. pair.GetChildren().Select(c => c.Value ?? "")];
            if (names.Length != 2 || names.Any(n => n.Length == 0))
            {
                throw ConfigurationException.Refused($"Pairing:DenyPairs:{pair.Key}", pair.Value ?? string.Join(",", names), "a list of exactly two guests, e.g. [\"web1\", \"db1\"]");
            }

            denyPairs.Add((names[0], names[1]));
        }

        var ignoreFilters = Names(config.Section("Pairing:IgnoreFilters"), "Pairing:IgnoreFilters");
        if (ignoreFilters.FirstOrDefault(g => !groups.ContainsKey(g)) is { } unknown)
        {
            throw ConfigurationException.Refused("Pairing:IgnoreFilters", unknown, "names of groups under Pairing:Groups whose members may pair although Dom0's packet filter may concern their traffic");
        }

        var prefixes = new Dictionary<string, IReadOnlyList<IpPrefix>>(StringComparer.Ordinal);
        foreach (var guest in config.Section("Pairing:Prefixes").GetChildren())
        {
            string option = $"Pairing:Prefixes:{guest.Key}";
            var texts = Names(guest, option);
            if (texts.Count == 0 || guest.Key.Any(char.IsWhiteSpace))
            {
                throw ConfigurationException.Refused(option, guest.Value ?? "", "a guest (domain name or domid) with a list of networks, e.g. { \"web1\": [\"10.244.1.0/24\"] }");
            }

            if (!PeerTableEntry.TryParseAddresses(string.Join(' ', texts), out var list, out string? error))
            {
                throw ConfigurationException.Refused(option, string.Join(",", texts), $"networks in CIDR form with the host bits zero, at most {PeerTableEntry.MaxAddresses} ({error})");
            }

            prefixes[guest.Key] = list;
        }

        return new PairingRules
        {
            Prefixes = prefixes,
            Mode = mode,
            GroupMembers = groups,
            Deny = Names(config.Section("Pairing:Deny"), "Pairing:Deny"),
            DenyPairs = denyPairs,
            Bridges = Names(config.Section("Pairing:Bridges"), "Pairing:Bridges"),
            IgnoreFilters = ignoreFilters,
        };
    }

    /// <summary>A JSON list of non-empty strings without spaces (a lone string is refused: it is almost always a missing [ ]).</summary>
    private static HashSet<string> Names(IConfigurationSection section, string option)
    {
        if (section.Value is { Length: > 0 } single)
        {
            throw ConfigurationException.Refused(option, single, "a JSON list of names, e.g. [\"" + single + "\"]");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var child in section.GetChildren())
        {
            string value = child.Value ?? "";
            if (value.Length == 0 || value.Any(char.IsWhiteSpace) || child.GetChildren().Any())
            {
                throw ConfigurationException.Refused($"{option}:{child.Key}", value, "a domain name or domid without spaces");
            }

            names.Add(value);
        }

        return names;
    }
}
