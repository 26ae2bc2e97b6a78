using System.Buffers.Binary;

namespace XenVmc.Packets;

/// <summary><c>virtio_net_hdr.flags</c> (linux/virtio_net.h).</summary>
[Flags]
public enum VirtioNetHeaderFlags : byte
{
    None = 0,

    /// <summary>VIRTIO_NET_HDR_F_NEEDS_CSUM: the L4 checksum field holds the pseudo-header sum; checksum from csum_start, store at csum_start + csum_offset.</summary>
    NeedsChecksum = 1,

    /// <summary>VIRTIO_NET_HDR_F_DATA_VALID: the checksum was already verified.</summary>
    DataValid = 2,

    /// <summary>VIRTIO_NET_HDR_F_RSC_INFO: only meaningful between a device and its driver.</summary>
    RscInfo = 4,
}

/// <summary><c>virtio_net_hdr.gso_type</c> (linux/virtio_net.h); <see cref="Ecn"/> is a flag on top of a type.</summary>
public enum VirtioNetGsoType : byte
{
    None = 0,
    TcpV4 = 1,

    /// <summary>UFO (IP-level fragmentation offload); obsolete, refused from a peer.</summary>
    Udp = 3,
    TcpV6 = 4,

    /// <summary>USO: UDP segmentation into separate datagrams (kernel ≥ 6.2 on TUN).</summary>
    UdpL4 = 5,
    Ecn = 0x80,
}

/// <summary>
/// A view of the 10-byte <c>struct virtio_net_hdr</c> that TUN prepends to every packet with
/// IFF_VNET_HDR. Little-endian (x86_64 and arm64 guests are little-endian whatever
/// TUNSETVNETLE says).
/// </summary>
/// <remarks>
/// <code>
/// offset size field
///   0     u8  flags
///   1     u8  gso_type
///   2    u16  hdr_len      L3 + L4 header length (a hint)
///   4    u16  gso_size     payload bytes per segment (MSS)
///   6    u16  csum_start   where checksumming starts (the L4 header)
///   8    u16  csum_offset  checksum field offset from csum_start (TCP 16, UDP 6)
/// </code>
/// When the bytes came from a peer, read them from a private copy: this view reads the span on
/// every property access. <see cref="PacketParser.ValidateVnet"/> holds the rules.
/// </remarks>
public readonly ref struct VirtioNetHeader
{
    public const int Size = 10;

    private const int FlagsOffset = 0;
    private const int GsoTypeOffset = 1;
    private const int HeaderLengthOffset = 2;
    private const int GsoSizeOffset = 4;
    private const int ChecksumStartOffset = 6;
    private const int ChecksumOffsetOffset = 8;

    private readonly ReadOnlySpan<byte> _bytes;

    private VirtioNetHeader(ReadOnlySpan<byte> bytes) => _bytes = bytes;

    /// <summary>Checks only that 10 bytes are there; semantic checks need the packet.</summary>
    public static PacketDropReason TryCreate(ReadOnlySpan<byte> bytes, out VirtioNetHeader header)
    {
        header = default;
        if (bytes.Length < Size)
        {
            return PacketDropReason.BadVnetHeader;
        }

        header = new VirtioNetHeader(bytes[..Size]);
        return PacketDropReason.None;
    }

    public VirtioNetHeaderFlags Flags => (VirtioNetHeaderFlags)_bytes[FlagsOffset];

    /// <summary>The raw gso_type byte, ECN flag included.</summary>
    public VirtioNetGsoType GsoType => (VirtioNetGsoType)_bytes[GsoTypeOffset];

    /// <summary>gso_type without the ECN flag.</summary>
    public VirtioNetGsoType GsoKind => (VirtioNetGsoType)(_bytes[GsoTypeOffset] & ~(byte)VirtioNetGsoType.Ecn);

    public bool HasEcn => (_bytes[GsoTypeOffset] & (byte)VirtioNetGsoType.Ecn) != 0;

    public ushort HeaderLength => BinaryPrimitives.ReadUInt16LittleEndian(_bytes[HeaderLengthOffset..]);

    public ushort GsoSize => BinaryPrimitives.ReadUInt16LittleEndian(_bytes[GsoSizeOffset..]);

    public ushort ChecksumStart => BinaryPrimitives.ReadUInt16LittleEndian(_bytes[ChecksumStartOffset..]);

    public ushort ChecksumOffset => BinaryPrimitives.ReadUInt16LittleEndian(_bytes[ChecksumOffsetOffset..]);

    /// <summary>Writes a header into the first 10 bytes of <paramref name="destination"/>.</summary>
    public static void Write(
        Span<byte> destination,
        VirtioNetHeaderFlags flags,
        VirtioNetGsoType gsoType,
        ushort headerLength,
        ushort gsoSize,
        ushort checksumStart,
        ushort checksumOffset)
    {
        if (destination.Length < Size)
        {
            throw new ArgumentException("A virtio-net header is 10 bytes.", nameof(destination));
        }

        destination[FlagsOffset] = (byte)flags;
        destination[GsoTypeOffset] = (byte)gsoType;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[HeaderLengthOffset..], headerLength);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[GsoSizeOffset..], gsoSize);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[ChecksumStartOffset..], checksumStart);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[ChecksumOffsetOffset..], checksumOffset);
    }

    /// <summary>Writes the all-zero header: no offload, checksums already complete.</summary>
    public static void WriteNone(Span<byte> destination) =>
        Write(destination, VirtioNetHeaderFlags.None, VirtioNetGsoType.None, 0, 0, 0, 0);
}
