namespace XenVmc.Linux;

/// <summary>How <see cref="TunDevice.Open"/> attaches to or creates a TUN device.</summary>
public sealed record TunOpenOptions
{
    public static TunOpenOptions Default { get; } = new();

    /// <summary>IFF_VNET_HDR: every packet read or written starts with a 10-byte virtio_net_hdr.</summary>
    public bool VnetHeader { get; init; } = true;

    /// <summary>IFF_MULTI_QUEUE: must match the existing device when attaching (the kernel says EINVAL otherwise).</summary>
    public bool MultiQueue { get; init; }

    /// <summary>
    /// Offloads to request; <c>null</c> means checksum + TSO4 + TSO6 with a vnet header and none without.
    /// Offloads other than <see cref="TunOffloads.None"/> require <see cref="VnetHeader"/>.
    /// </summary>
    public TunOffloads? Offloads { get; init; }

    /// <summary>Also try USO4|USO6 (kernel ≥ 6.2) and fall back silently when the kernel refuses them.</summary>
    public bool ProbeUdpSegmentationOffload { get; init; } = true;

    /// <summary>O_NONBLOCK: <see cref="TunDevice.Read"/> returns -1 instead of waiting.</summary>
    public bool NonBlocking { get; init; }
}
