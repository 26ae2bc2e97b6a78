using Microsoft.Extensions.Logging;
using XenVmc.Platform.Hosting;

namespace XenVmc.Guest;

/// <summary>
/// Everything xenvmc-guest reads at start: <c>/etc/xenvmc/guest.json</c>, then <c>XENVMC_GUEST_*</c>
/// environment variables, then the command line. README.md documents each option.
/// </summary>
public sealed record GuestConfiguration(GuestOptions Options, string Platform, string? Xenbus, string? Hypervisor, string? PidFile, LogLevel LogLevel, string Source) : IDaemonOptions
{
    /// <summary><c>auto</c>, <c>bind</c> or <c>poll</c>: whether channels get an event channel (see <see cref="Platform.PolledEventPort"/>).</summary>
    public string EventChannels { get; init; } = "auto";

    public const string DefaultFile = "/etc/xenvmc/guest.json";
    public const string EnvironmentPrefix = "XENVMC_GUEST_";

    /// <summary>Command-line option → configuration key. <c>--verbose</c> is <c>LogLevel=Debug</c>; <c>--config</c> names the file.</summary>
    public static readonly IReadOnlyDictionary<string, string> CommandLineKeys = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["--platform"] = "Platform",
        ["--xenbus"] = "Xenbus",
        ["--hypervisor"] = "Hypervisor",
        ["--interface"] = "Interface",
        ["--mtu"] = "Mtu",
        ["--ring-kib"] = "RingKiB",
        ["--status-socket"] = "StatusSocket",
        ["--peer-timeout-ms"] = "PeerTimeoutMs",
        ["--poll-us"] = "PollUs",
        ["--pid-file"] = "PidFile",
        ["--log-level"] = "LogLevel",
        ["--event-channels"] = "EventChannels",
        ["--coalesce-udp"] = "CoalesceUdp",
    };

    public static readonly string[] Keys = ["Platform", "Xenbus", "Hypervisor", "Interface", "Mtu", "RingKiB", "StatusSocket", "PeerTimeoutMs", "PollUs", "PidFile", "LogLevel", "EventChannels", "CoalesceUdp"];

    /// <summary>Reads and checks the configuration; a wrong value throws <see cref="ConfigurationException"/>.</summary>
    public static GuestConfiguration Load(CommandLine cl, IReadOnlyDictionary<string, string>? environment = null, string defaultFile = DefaultFile) =>
        From(Read(cl, environment, defaultFile));

    /// <summary>Reads the file, the environment and the command line, refusing unknown keys; <see cref="From"/> binds and checks the values.</summary>
    public static DaemonConfiguration Read(CommandLine cl, IReadOnlyDictionary<string, string>? environment = null, string defaultFile = DefaultFile) =>
        DaemonConfiguration.Load(cl, CommandLineKeys, defaultFile, EnvironmentPrefix, Keys, environment);

    public static GuestConfiguration From(DaemonConfiguration config)
    {
        string name = config.GetString("Interface", "vmc0");
        if (name.Length is 0 or > 15 || name.Contains('/') || name.Any(char.IsWhiteSpace) || name is "." or "..")
        {
            throw ConfigurationException.Refused("Interface", name, "a Linux interface name: 1 to 15 characters, no '/' or white space");
        }

        int ringKib = config.GetInt("RingKiB", GuestOptions.MinRingBytes / 1024, GuestOptions.MinRingBytes / 1024, GuestOptions.MaxRingBytes / 1024);
        if ((ringKib & (ringKib - 1)) != 0)
        {
            throw ConfigurationException.Refused("RingKiB", ringKib.ToString(System.Globalization.CultureInfo.InvariantCulture), $"a power of two from {GuestOptions.MinRingBytes / 1024} to {GuestOptions.MaxRingBytes / 1024}");
        }

        string statusSocket = config.GetString("StatusSocket", GuestOptions.DefaultStatusSocket);
        if (statusSocket.Length < 2 || statusSocket.Length > 107 || (statusSocket[0] != '@' && statusSocket[0] != '/'))
        {
            throw ConfigurationException.Refused("StatusSocket", statusSocket, "'@name' (an abstract socket) or an absolute path, at most 107 bytes");
        }

        var options = new GuestOptions
        {
            Interface = name,
            Mtu = config.GetInt("Mtu", 65520, 1280, 65535),
            RingBytes = ringKib * 1024,
            StatusSocket = statusSocket,
            PeerTimeout = TimeSpan.FromMilliseconds(config.GetInt("PeerTimeoutMs", 1500, 100, 60_000)),
            PollMicroseconds = config.GetInt("PollUs", GuestOptions.DefaultPollMicroseconds, 0, GuestOptions.MaxPollMicroseconds),
            CoalesceUdp = config.GetChoice("CoalesceUdp", "off", "off", "on") == "on",
        };
        string platform = config.GetChoice("Platform", "auto", "auto", "xen", "sim");
        string? xenbus = config.GetString("Xenbus");
        string? hypervisor = config.GetString("Hypervisor");
        if (platform == "sim" && (xenbus is null || hypervisor is null))
        {
            throw ConfigurationException.Refused(xenbus is null ? "Xenbus" : "Hypervisor", null, "with Platform sim, the path of this domain's simulated " + (xenbus is null ? "XenStore" : "hypervisor") + " socket");
        }

        string? pidFile = config.GetString("PidFile");
        if (pidFile is not null && !Path.IsPathRooted(pidFile))
        {
            throw ConfigurationException.Refused("PidFile", pidFile, "an absolute path");
        }

        return new GuestConfiguration(options, platform, xenbus, hypervisor, pidFile, config.GetLogLevel("LogLevel", LogLevel.Information), config.Source)
        {
            EventChannels = config.GetChoice("EventChannels", "auto", "auto", "bind", "poll"),
        };
    }
}
