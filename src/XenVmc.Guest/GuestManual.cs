using System.Globalization;
using XenVmc.Platform.Hosting.Manual;

namespace XenVmc.Guest;

/// <summary>xenvmc-guest's documentation: its <c>--help</c>, xenvmc-guest(1), xenvmc-guest.json(5) and README.md's guest.json table.</summary>
public static class GuestManual
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static ProgramManual Page { get; } = new()
    {
        Name = "xenvmc-guest",
        Summary = "XenVMC guest daemon: routes traffic to co-resident guests through shared memory",
        Synopsis = "[options]",
        Options =
        [
            new("--config", "PATH", null, GuestConfiguration.DefaultFile + ", if present", "the configuration file"),
            new("--platform", "MODE", "Platform", "auto", "auto (Xen when /dev/xen exists), xen, or sim (the simulated host)"),
            new("--xenbus", "PATH", "Xenbus", null, "sim only: this domain's XenStore socket"),
            new("--hypervisor", "PATH", "Hypervisor", null, "sim only: this domain's hypervisor socket"),
            new("--interface", "NAME", "Interface", "vmc0", "the TUN, 1 to 15 characters; attached if it exists, created otherwise"),
            new("--mtu", "N", "Mtu", "65520", "the TUN's MTU, 1280 to 65535; large so a 64 KiB super-packet crosses whole"),
            new("--ring-kib", "N", "RingKiB", (GuestOptions.MinRingBytes / 1024).ToString(Inv), string.Create(Inv, $"ring size per direction in KiB: {GuestOptions.MinRingBytes / 1024} or {GuestOptions.MaxRingBytes / 1024}")),
            new("--status-socket", "NAME", "StatusSocket", GuestOptions.DefaultStatusSocket, "the status socket xenvmc reads: @name (abstract, one per network namespace) or an absolute path"),
            new("--peer-timeout-ms", "N", "PeerTimeoutMs", "1500", "100 to 60000: a peer whose heartbeat stands still this long is gone (its route is removed)"),
            new("--poll-us", "N", "PollUs", GuestOptions.DefaultPollMicroseconds.ToString(Inv), string.Create(Inv, $"0 to {GuestOptions.MaxPollMicroseconds} µs: after its last packet the data thread keeps polling (yielding the CPU) this long before it sleeps, so a quick reply costs no wake-up; 0 sleeps at once")),
            new("--event-channels", "MODE", "EventChannels", "auto", "poll: channels get no event channel, the data thread looks at its receive rings every 1 ms while it sleeps; bind: an interdomain event channel per channel through /dev/xen/evtchn; auto: poll on Xen, bind on the simulated host. Why Xen polls: see \"Event channels and save/restore\" in README.md"),
            new("--coalesce-udp", "MODE", "CoalesceUdp", "off", "on: consecutive UDP datagrams of one flow from a peer reach vmc0 as one UDP GSO super-packet (when the kernel accepts TUN_F_USO4/6); off: one write per datagram. Off by default: it did not win in our benchmark (README \"Performance\")"),
            new("--pid-file", "PATH", "PidFile", null, "write the daemon's pid here (an absolute path)"),
            new("--log-level", "LEVEL", "LogLevel", "Information", "Trace, Debug, Information, Warning, Error or Critical"),
            new("--verbose", null, null, null, "the same as --log-level Debug"),
            new("--help", null, null, null, "this text"),
            new("--version", null, null, null, "the package version"),
        ],
        Description =
        [
            "Each [Key] can also be set in the configuration file ({ \"Mtu\": 9000 }) or the environment (XENVMC_GUEST_MTU=9000); the command line wins over the environment, which wins over the file.",
        ],
        ExitCodes =
        [
            ("0", "stopped cleanly"),
            ("1", "failed while running"),
            ("2", "wrong command line or configuration"),
        ],
        Files =
        [
            (GuestConfiguration.DefaultFile, "the configuration, see xenvmc-guest.json(5)"),
            ("/lib/systemd/system/xenvmc-guest.service", "the systemd unit (Type=notify, watchdog)"),
            ("/usr/share/xenvmc/networkd/", "systemd-networkd files that create vmc0 at boot"),
        ],
        SeeAlso = ["xenvmc(1)", "xenvmc-guest.json(5)", "xenvmc-dom0(1)"],
        ConfigurationFile = new(GuestConfiguration.DefaultFile, GuestConfiguration.EnvironmentPrefix,
        [
            "xenvmc-guest reads, in rising precedence: this JSON file (or the one --config PATH names; comments allowed; a missing default file means all defaults), environment variables (XENVMC_GUEST_<OPTION>), and its command line.",
            "Every value is checked at start: an unknown option or a wrong value stops the daemon with exit code 2 and one line that names the option, the value and what is allowed.",
        ]),
    };
}
