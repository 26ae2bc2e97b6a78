using XenVmc.Platform.Hosting.Manual;

namespace XenVmc.Dom0;

/// <summary>xenvmc-dom0's documentation: its <c>--help</c>, xenvmc-dom0(1), xenvmc-dom0.json(5) and README.md's dom0.json table.</summary>
public static class Dom0Manual
{
    public static ProgramManual Page { get; } = new()
    {
        Name = "xenvmc-dom0",
        Summary = "XenVMC Dom0 daemon: finds co-resident guests allowed to pair and gives each its peer table",
        Synopsis = "[options]",
        Options =
        [
            new("--config", "PATH", null, Dom0Configuration.DefaultFile + ", if present", "the configuration file"),
            new("--store", "PATH", "Store", "$XENSTORED_PATH, else /var/run/xenstored/socket, else /dev/xen/xenbus", "the xenstored socket or /dev/xen/xenbus (an absolute path)"),
            new("--pairing", "MODE", "Pairing:Mode", PairingRules.SameBridge, $"{PairingRules.SameBridge}: any two guests with vifs on a common bridge pair; {PairingRules.Groups}: only if they are also in a common group (at least one group needed)"),
            new("--pid-file", "PATH", "PidFile", null, "write the daemon's pid here (an absolute path)"),
            new("--log-level", "LEVEL", "LogLevel", "Information", "Trace, Debug, Information, Warning, Error or Critical"),
            new("--verbose", null, null, null, "the same as --log-level Debug"),
            new("--help", null, null, null, "this text"),
            new("--version", null, null, null, "the package version"),
        ],
        FileOnlyOptions =
        [
            new(null, null, "Pairing:Groups", null, "{ \"web\": [\"web1\", \"web2\", \"7\"] }: group name → at least two guests"),
            new(null, null, "Pairing:Deny", "[]", "guests that never pair"),
            new(null, null, "Pairing:DenyPairs", "[]", "[[\"web1\", \"db1\"]]: pairs that never pair with each other"),
            new(null, null, "Pairing:Bridges", "[] (all)", "only vifs on these bridges count as shared"),
            new(null, null, "Pairing:IgnoreFilters", "[]", "[\"db\"]: names of groups under Pairing:Groups whose members pair even where Dom0's packet filter may concern their traffic (never by default)"),
            new(null, null, "Pairing:Prefixes", "{}", "{ \"node2\": [\"10.244.2.0/24\", \"fd00:244:2::/64\"] }: guest (domain name or domid) → networks routed behind it that Dom0 grants besides its vifs' ip keys; CIDR with the host bits zero, at most 16 entries, /8 or longer, no loopback or multicast"),
        ],
        Description =
        [
            "The pairing policy (Pairing: Mode, Groups, Deny, DenyPairs, Bridges, IgnoreFilters, Prefixes) lives in the configuration file, see xenvmc-dom0.json(5). Two guests never pair where Dom0's own packet filter (nftables, legacy iptables/ebtables, Open vSwitch) may concern their traffic, unless their group is listed in Pairing:IgnoreFilters. Each [Key] can also be set in the environment (XENVMC_DOM0_STORE=..., XENVMC_DOM0_PAIRING__MODE=groups); the command line wins over the environment, which wins over the file.",
        ],
        ExitCodes =
        [
            ("0", "stopped cleanly"),
            ("1", "failed while running"),
            ("2", "wrong command line or configuration"),
        ],
        Files =
        [
            (Dom0Configuration.DefaultFile, "the configuration, see xenvmc-dom0.json(5)"),
            ("/lib/systemd/system/xenvmc-dom0.service", "the systemd unit (Type=notify, watchdog)"),
        ],
        SeeAlso = ["xenvmc-dom0.json(5)", "xenvmc-guest(1)", "xenvmc(1)"],
        ConfigurationFile = new(Dom0Configuration.DefaultFile, Dom0Configuration.EnvironmentPrefix,
        [
            "xenvmc-dom0 reads, in rising precedence: this JSON file (or the one --config PATH names; comments allowed; a missing default file means all defaults), environment variables (XENVMC_DOM0_<OPTION>, \"__\" for nesting, e.g. XENVMC_DOM0_PAIRING__MODE=groups), and its command line.",
            "Every value is checked at start: an unknown option or a wrong value stops the daemon with exit code 2 and one line that names the option, the value and what is allowed.",
            "A guest is named by its domain name (/local/domain/N/name, written by the toolstack, not by the guest) or its domid. Every rule only narrows the default: two guests never pair unless they share a bridge, so no policy can connect networks Dom0 keeps apart.",
        ]),
    };
}
