namespace XenVmc.Linux;

/// <summary>TUNSETOFFLOAD bits (TUN_F_*): what this side is willing to <em>receive</em> from the kernel.</summary>
/// <remarks>
/// The kernel honours the segmentation bits only together with <see cref="Checksum"/>, enables USO only when
/// both <see cref="Uso4"/> and <see cref="Uso6"/> are set, and refuses any bit it does not know with EINVAL.
/// </remarks>
[Flags]
public enum TunOffloads : uint
{
    None = 0,
    Checksum = 0x01,
    Tso4 = 0x02,
    Tso6 = 0x04,
    TsoEcn = 0x08,
    Ufo = 0x10,
    Uso4 = 0x20,
    Uso6 = 0x40,
}
