namespace XenVmc.Packets.Tests;

/// <summary>
/// Packets computed outside this code base (a short Python script using struct and its own
/// RFC 1071 checksum), so the builder and the views are checked against an independent source.
/// </summary>
internal static class GoldenPackets
{
    /// <summary>192.0.2.1:40000 → 198.51.100.2:80 SYN, DF, TTL 64, id 0x1234, seq 0x01020304, window 64240, options MSS 1460, NOP, NOP, SACK-permitted.</summary>
    public const string V4TcpSyn = "450000301234400040063c5dc0000201c63364029c40005001020304000000007002faf0fb600000020405b401010402";

    /// <summary>UDP 5353 → 53 "hello", id 0xbeef, TTL 1, IP options NOP, NOP, router alert, end-of-list (IHL 7).</summary>
    public const string V4UdpWithOptions = "47000029beef000001117798c0000201c6336402010194040000000014e90035000dbaac68656c6c6f";

    /// <summary>ICMP echo request id 0x4242 seq 1, "abcdefgh", id 7.</summary>
    public const string V4IcmpEcho = "450000240007400040014e9bc0000201c633640208002427424200016162636465666768";

    /// <summary>2001:db8::1:443 → 2001:db8::2:50000, traffic class 0x2e, flow 0x12345, ACK|PSH, seq 0xfffffff0, ack 0x10, window 512, "xenvmc".</summary>
    public const string V6TcpAckPsh = "62e12345001a064020010db800000000000000000000000120010db800000000000000000000000201bbc350fffffff000000010501802003906000078656e766d63";

    /// <summary>Hop-by-hop (8 bytes, PadN), destination options (16 bytes, PadN), UDP 1000 → 2000 "ext".</summary>
    public const string V6UdpHopByHopDestOpts = "600000000023004020010db800000000000000000000000120010db80000000000000000000000023c000104000000001101010c00000000000000000000000003e807d0000bbf32657874";

    /// <summary>ICMPv6 echo request id 1 seq 2, "ping".</summary>
    public const string V6IcmpEcho = "60000000000c3a4020010db800000000000000000000000120010db8000000000000000000000002800045700001000270696e67";

    /// <summary>The IPv4 header used as the worked example on Wikipedia's "Internet checksum" article; checksum 0xb861.</summary>
    public const string WikipediaIpv4Header = "450000730000400040110000c0a80001c0a800c7";

    public static byte[] Bytes(string hex) => Convert.FromHexString(hex);
}
