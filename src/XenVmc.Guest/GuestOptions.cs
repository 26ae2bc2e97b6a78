namespace XenVmc.Guest;

/// <summary>What an operator can set for xenvmc-guest.</summary>
public sealed record GuestOptions
{
    /// <summary>The TUN interface the bypass routes point at.</summary>
    public string Interface { get; init; } = "vmc0";

    /// <summary>MTU of the TUN interface; large so one packet can be a 64 KiB super-packet.</summary>
    public int Mtu { get; init; } = 65520;

    /// <summary>Bytes of each ring direction, a power of two (64 KiB to 1 MiB).</summary>
    public int RingBytes { get; init; } = 512 * 1024;

    /// <summary>The routing-protocol number our routes carry (<c>ip route show proto 86</c>).</summary>
    public byte RouteProtocol { get; init; } = RouteProtocolNumber;

    /// <summary>Abstract unix socket name (leading '@') or path the status server listens on.</summary>
    public string StatusSocket { get; init; } = DefaultStatusSocket;

    /// <summary>A peer whose heartbeat stands still this long is considered gone.</summary>
    public TimeSpan PeerTimeout { get; init; } = TimeSpan.FromSeconds(1.5);

    /// <summary>
    /// After its last packet the data thread keeps polling this long (yielding the CPU between
    /// passes) before it sleeps: a reply that comes back within it costs no wake-up. 0 disables.
    /// </summary>
    public int PollMicroseconds { get; init; } = DefaultPollMicroseconds;

    /// <summary>
    /// Consecutive UDP datagrams of one flow from a peer are written to the TUN as one UDP_L4 GSO
    /// super-packet, when the kernel takes those. Off by default: README "Performance" has the A/B.
    /// </summary>
    public bool CoalesceUdp { get; init; }

    public const byte RouteProtocolNumber = 86;
    public const string DefaultStatusSocket = "@xenvmc-guest";
    public const int MinRingBytes = 512 * 1024; // a record (64 KiB packet) may take at most a quarter of the ring
    public const int MaxRingBytes = 1024 * 1024;
    public const int DefaultPollMicroseconds = 50;
    public const int MaxPollMicroseconds = 1000;

    public void Validate()
    {
        if (Interface.Length is 0 or > 15 || Interface.Contains('/') || Interface.Any(char.IsWhiteSpace))
        {
            throw new ArgumentException($"interface '{Interface}': a Linux interface name has 1 to 15 characters, no '/' or spaces");
        }

        if (Mtu is < 1280 or > 65535)
        {
            throw new ArgumentException($"mtu {Mtu}: allowed 1280 to 65535");
        }

        if (RingBytes < MinRingBytes || RingBytes > MaxRingBytes || (RingBytes & (RingBytes - 1)) != 0)
        {
            throw new ArgumentException($"ring size {RingBytes}: a power of two from {MinRingBytes} to {MaxRingBytes} bytes");
        }

        if (PollMicroseconds is < 0 or > MaxPollMicroseconds)
        {
            throw new ArgumentException($"poll time {PollMicroseconds} µs: allowed 0 to {MaxPollMicroseconds}");
        }

        if (RouteProtocol < 5)
        {
            throw new ArgumentException($"route protocol {RouteProtocol}: 0-4 belong to the kernel and iproute2");
        }
    }
}
