using BenchmarkDotNet.Attributes;
using XenVmc.Packets;
using XenVmc.Packets.Tests;

namespace XenVmc.Benchmarks;

/// <summary>The parser and the checksum on the packets the data path sees most: 1400-byte TCP and UDP segments.</summary>
public class PacketBenchmarks
{
    private readonly byte[] _v4Tcp = PacketBuilder.Ipv4(IpProtocol.Tcp, PacketBuilder.Tcp(payload: new byte[1360]));
    private readonly byte[] _v6Udp = PacketBuilder.Ipv6(IpProtocol.Udp, PacketBuilder.Udp(payload: new byte[1352]));
    private readonly byte[] _vnet = PacketBuilder.Vnet();
    private readonly byte[] _bulk = new byte[65536];

    [Benchmark]
    public int ParseIpv4Tcp() => PacketParser.TryParse(_v4Tcp, out PacketInfo info) == PacketDropReason.None ? info.Length : -1;

    [Benchmark]
    public int ParseIpv6Udp() => PacketParser.TryParse(_v6Udp, out PacketInfo info) == PacketDropReason.None ? info.Length : -1;

    /// <summary>Parse plus the virtio-net header check the receive side does.</summary>
    [Benchmark]
    public PacketDropReason ParseAndValidateVnet()
    {
        PacketDropReason reason = PacketParser.TryParse(_v4Tcp, out PacketInfo info);
        return reason == PacketDropReason.None ? PacketParser.ValidateVnet(_vnet, info) : reason;
    }

    [Benchmark]
    public ushort Checksum1400() => Checksum.Compute(_v4Tcp.AsSpan(20));

    [Benchmark]
    public ushort Checksum64KiB() => Checksum.Compute(_bulk);
}
