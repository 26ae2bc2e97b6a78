using System.Buffers.Binary;

namespace XenVmc.Packets;

/// <summary>What <see cref="UdpCoalescer.Classify"/> says to do with one validated record.</summary>
public enum UdpCoalescing
{
    /// <summary>The record continues the pending group: <see cref="UdpCoalescer.Join"/>.</summary>
    Join,

    /// <summary>The record can head a group: write the pending group out, then <see cref="UdpCoalescer.Begin"/>.</summary>
    Begin,

    /// <summary>The record cannot be coalesced: write the pending group out, then the record as it is.</summary>
    Alone,
}

/// <summary>
/// Decides which consecutive UDP datagrams of one flow are written to a TUN as one UDP_L4 GSO
/// super-packet, and builds that packet's headers (virtio-net, IP, UDP): the write side of GRO as
/// wireguard-go's <c>tun/offload_linux.go</c> does it, restricted to what the kernel's UDP
/// segmentation gives back byte for byte.
/// </summary>
/// <remarks>
/// Design: one instance per data thread; allocation-free after construction and holding no
/// reference to any record (the caller keeps each payload's location and writes the headers from
/// <see cref="BuildHeaders"/> followed by the payloads, in order). Every record offered must
/// already have passed the receive validation on a private copy (parser, virtio-net header,
/// admission); the bytes offered are that private copy, so nothing here reads shared memory.
/// <para>
/// The kernel cuts a UDP_L4 super-packet into datagrams of gso_size payload bytes (the last may
/// be shorter) and gives each a copy of the first datagram's IP and UDP headers with the lengths,
/// the IPv4 identification (first + i), the IPv4 header checksum and the UDP checksum set anew.
/// So a record joins a group only when that reproduces it: IPv4 without options or IPv6 with UDP
/// as its next header; not a fragment; no GSO of its own; the same addresses and ports; equal
/// IPv4 TOS, flags and TTL and the next identification (IPv6: equal version/class/flow label
/// word and hop limit); a UDP length equal to the IP payload length; a payload of gso_size bytes,
/// or fewer for the last one. The checksums are the kernel's to compute, so only records whose
/// L4 checksum the kernel would not have verified are taken (virtio flags NEEDS_CSUM or
/// DATA_VALID), and an IPv4 header whose checksum is wrong stays alone, to be dropped by the
/// kernel as before. A group never exceeds <see cref="MaxSegments"/> datagrams or 65535 IP bytes.
/// </para>
/// </remarks>
public sealed class UdpCoalescer
{
    /// <summary>Datagrams per super-packet at most (the kernel accepts 64 on older kernels, 128 on newer).</summary>
    public const int MaxSegments = 64;

    /// <summary>The longest headers a group writes: virtio-net, IPv6, UDP.</summary>
    public const int MaxHeaderBytes = VirtioNetHeader.Size + Ipv6HeaderBytes + UdpHeader.HeaderLength;

    private const int Ipv4HeaderBytes = Ipv4Header.MinimumHeaderLength;
    private const int Ipv6HeaderBytes = 40;
    private const int MaxIpLength = ushort.MaxValue;

    // Pinned: a caller may hand its address to the kernel (writev) while the group is pending.
    private readonly byte[] _headers = GC.AllocateArray<byte>(MaxHeaderBytes, pinned: true);
    private int _ipHeaderLength;
    private int _gsoSize;
    private int _payloadBytes;
    private ushort _nextId;
    private bool _closed;

    /// <summary>Datagrams in the pending group (0: none).</summary>
    public int Count { get; private set; }

    /// <summary>
    /// Where a record's UDP payload starts (its virtio-net, IP and UDP headers end); valid for a
    /// record <see cref="Classify"/> did not call <see cref="UdpCoalescing.Alone"/>.
    /// </summary>
    public static int PayloadOffset(in PacketInfo info) => VirtioNetHeader.Size + info.TransportOffset + UdpHeader.HeaderLength;

    /// <summary>
    /// What to do with <paramref name="record"/> (a private copy of at least its virtio-net, IP
    /// and UDP headers) given the pending group. Changes nothing.
    /// </summary>
    public UdpCoalescing Classify(ReadOnlySpan<byte> record, in PacketInfo info)
    {
        int payload = Eligible(record, info);
        if (payload <= 0)
        {
            return UdpCoalescing.Alone;
        }

        return Continues(record, info, payload) ? UdpCoalescing.Join : UdpCoalescing.Begin;
    }

    /// <summary>Starts a group with a record <see cref="Classify"/> called <see cref="UdpCoalescing.Begin"/> (any pending group must have been written).</summary>
    public void Begin(ReadOnlySpan<byte> record, in PacketInfo info)
    {
        int headers = PayloadOffset(info);
        record[..headers].CopyTo(_headers);
        _ipHeaderLength = info.TransportOffset;
        _gsoSize = info.Length - info.TransportOffset - UdpHeader.HeaderLength;
        _payloadBytes = _gsoSize;
        _nextId = (ushort)(Identification(record) + 1);
        _closed = false;
        Count = 1;
    }

    /// <summary>Adds a record <see cref="Classify"/> called <see cref="UdpCoalescing.Join"/>.</summary>
    public void Join(in PacketInfo info)
    {
        int payload = info.Length - info.TransportOffset - UdpHeader.HeaderLength;
        _payloadBytes += payload;
        _closed = payload < _gsoSize;
        _nextId++;
        Count++;
    }

    /// <summary>
    /// The pending group's headers: from <see cref="Begin"/> on, the memory (pinned, of fixed length)
    /// that <see cref="BuildHeaders"/> fills in place, so a caller may queue it for a gathered write
    /// before the group is complete.
    /// </summary>
    public ReadOnlySpan<byte> Headers => _headers.AsSpan(0, Count == 0 ? 0 : VirtioNetHeader.Size + _ipHeaderLength + UdpHeader.HeaderLength);

    /// <summary>Forgets the pending group (after it was written, or when it must not be).</summary>
    public void Clear() => Count = 0;

    /// <summary>
    /// The headers to write before the group's payloads. One datagram: its own headers, unchanged.
    /// Several: a UDP_L4 GSO header (NEEDS_CSUM, gso_size, csum_start/offset), the IP and UDP
    /// lengths of the whole group, a fresh IPv4 header checksum, and in the UDP checksum field
    /// the pseudo-header sum over the group's UDP length, for the kernel to complete per datagram.
    /// </summary>
    public ReadOnlySpan<byte> BuildHeaders()
    {
        if (Count == 0)
        {
            throw new InvalidOperationException("No group is pending.");
        }

        var headers = _headers.AsSpan(0, VirtioNetHeader.Size + _ipHeaderLength + UdpHeader.HeaderLength);
        if (Count == 1)
        {
            return headers;
        }

        var ip = headers[VirtioNetHeader.Size..];
        var udp = ip[_ipHeaderLength..];
        int udpLength = UdpHeader.HeaderLength + _payloadBytes;
        ushort pseudo;
        if (_ipHeaderLength == Ipv4HeaderBytes)
        {
            BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(Ipv4HeaderBytes + udpLength));
            BinaryPrimitives.WriteUInt16BigEndian(ip[10..], 0);
            BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Checksum.Compute(ip[..Ipv4HeaderBytes]));
            pseudo = Checksum.PseudoHeaderSumV4(ip[12..16], ip[16..20], IpProtocol.Udp, (ushort)udpLength);
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)udpLength);
            pseudo = Checksum.PseudoHeaderSumV6(ip[8..24], ip[24..40], IpProtocol.Udp, (uint)udpLength);
        }

        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)udpLength);
        BinaryPrimitives.WriteUInt16BigEndian(udp[UdpHeader.ChecksumFieldOffset..], pseudo);
        VirtioNetHeader.Write(
            headers,
            VirtioNetHeaderFlags.NeedsChecksum,
            VirtioNetGsoType.UdpL4,
            (ushort)(_ipHeaderLength + UdpHeader.HeaderLength),
            (ushort)_gsoSize,
            (ushort)_ipHeaderLength,
            UdpHeader.ChecksumFieldOffset);
        return headers;
    }

    /// <summary>The record's UDP payload length when it may be coalesced at all, else 0.</summary>
    private static int Eligible(ReadOnlySpan<byte> record, in PacketInfo info)
    {
        if (info.Protocol != IpProtocol.Udp || info.IsFragment || record.Length < PayloadOffset(info))
        {
            return 0;
        }

        // Only checksums the kernel would not verify: it computes them anew for every datagram.
        var flags = (VirtioNetHeaderFlags)record[0];
        if (record[1] != (byte)VirtioNetGsoType.None
            || (flags != VirtioNetHeaderFlags.NeedsChecksum && flags != VirtioNetHeaderFlags.DataValid))
        {
            return 0;
        }

        var ip = record[VirtioNetHeader.Size..];
        if (info.Version == 4)
        {
            if (info.TransportOffset != Ipv4HeaderBytes || !Checksum.Verify(ip[..Ipv4HeaderBytes]))
            {
                return 0;
            }
        }
        else if (info.TransportOffset != Ipv6HeaderBytes || ip[6] != IpProtocol.Udp)
        {
            return 0;
        }

        int udpLength = info.Length - info.TransportOffset;
        if (BinaryPrimitives.ReadUInt16BigEndian(ip[(info.TransportOffset + 4)..]) != udpLength)
        {
            return 0;
        }

        return udpLength - UdpHeader.HeaderLength;
    }

    private bool Continues(ReadOnlySpan<byte> record, in PacketInfo info, int payload)
    {
        if (Count == 0 || _closed || Count >= MaxSegments || payload > _gsoSize
            || info.TransportOffset != _ipHeaderLength
            || _ipHeaderLength + UdpHeader.HeaderLength + _payloadBytes + payload > MaxIpLength)
        {
            return false;
        }

        var ip = record[VirtioNetHeader.Size..];
        var first = _headers.AsSpan(VirtioNetHeader.Size);
        if (_ipHeaderLength == Ipv4HeaderBytes)
        {
            // TOS; flags and fragment offset; TTL and protocol; addresses. The identification is the next one.
            if (info.Version != 4
                || ip[1] != first[1]
                || !ip[6..10].SequenceEqual(first[6..10])
                || !ip[12..20].SequenceEqual(first[12..20])
                || Identification(record) != _nextId)
            {
                return false;
            }
        }
        else if (info.Version != 6
            || !ip[..4].SequenceEqual(first[..4])
            || !ip[6..40].SequenceEqual(first[6..40]))
        {
            // Version, traffic class and flow label; next header and hop limit; addresses.
            return false;
        }

        // Ports.
        return ip.Slice(_ipHeaderLength, 4).SequenceEqual(first.Slice(_ipHeaderLength, 4));
    }

    private static ushort Identification(ReadOnlySpan<byte> record) =>
        record[VirtioNetHeader.Size] >> 4 == 4 ? BinaryPrimitives.ReadUInt16BigEndian(record[(VirtioNetHeader.Size + 4)..]) : (ushort)0;
}
