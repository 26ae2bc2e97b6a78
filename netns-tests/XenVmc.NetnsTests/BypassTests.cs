using System.Text.Json;
using Xunit.Abstractions;

namespace XenVmc.NetnsTests;

/// <summary>Two co-resident guests on one bridge: routes, and ping/TCP/UDP over IPv4 and IPv6 through the bypass.</summary>
public sealed class BypassTests(ITestOutputHelper output)
{
    private const string G1 = "xvmc-g1";
    private const string G2 = "xvmc-g2";

    [Fact]
    public void TwoGuests_RouteToPeerLeavesByTheTun()
    {
        using var host = SimHost.Up("--guests", "2");
        Assert.Equal("vmc0", SimHost.RouteDevice(G1, "198.18.0.2"));
        Assert.Equal("vmc0", SimHost.RouteDevice(G2, "198.18.0.1"));
        Assert.Equal("vmc0", SimHost.RouteDevice(G1, "fd00:198:18::2"));

        // Our routes carry our protocol number and the guest's own address as source.
        string routes = SimHost.Run("ip", ["-n", G1, "route", "show", "table", "all", "proto", "86"]).Output;
        Assert.Contains("198.18.0.2 dev vmc0", routes);
        Assert.Contains("src 198.18.0.1", routes);
    }

    [Fact]
    public void TwoGuests_PingTcpUdp_OverIpv4AndIpv6_CrossTheBypass()
    {
        using var host = SimHost.Up("--guests", "2");
        var eth0Before = SimHost.Bytes(G1, "eth0");
        var vmc0Before = SimHost.Bytes(G1, "vmc0");
        var g2Eth0Before = SimHost.Bytes(G2, "eth0");

        SimHost.ExecOk(G1, "ping", "-c", "5", "-i", "0.05", "-W", "2", "198.18.0.2");
        SimHost.ExecOk(G1, "ping", "-6", "-c", "5", "-i", "0.05", "-W", "2", "fd00:198:18::2");
        double tcp4 = Iperf.ReceivedBitsPerSecond(Iperf.Run(G1, G2, "198.18.0.2", "-t", "3"));
        double tcp6 = Iperf.ReceivedBitsPerSecond(Iperf.Run(G1, G2, "fd00:198:18::2", "-t", "2"));
        Assert.True(tcp4 > 100e6, $"TCP over IPv4 moved only {tcp4 / 1e6:0} Mbit/s");
        Assert.True(tcp6 > 100e6, $"TCP over IPv6 moved only {tcp6 / 1e6:0} Mbit/s");
        foreach (var (address, rate, length) in new[] { ("198.18.0.2", "200M", "1400"), ("fd00:198:18::2", "100M", "1200") })
        {
            // Both iperf3 ends and both daemons share two cores: a stall of a few milliseconds
            // (another process, the kernel) overflows a socket buffer at these rates. A second
            // measurement tells a transient stall from a bypass that loses packets.
            double lost = 100;
            for (int attempt = 0; attempt < 2 && lost >= 5; attempt++)
            {
                var sum = Iperf.Run(G1, G2, address, "-u", "-b", rate, "-l", length, "-t", "2").GetProperty("end").GetProperty("sum");
                Assert.True(sum.GetProperty("packets").GetInt64() > 1000, "UDP sent too few packets");
                lost = sum.GetProperty("lost_percent").GetDouble();
                output.WriteLine($"UDP to {address} at {rate}: lost {lost:0.00} % (measurement {attempt + 1})");
            }

            Assert.True(lost < 5, $"UDP to {address} lost {lost} % in two measurements");
        }

        // Proof of the path: the bytes went through vmc0 and the channel, not eth0.
        var eth0 = SimHost.Bytes(G1, "eth0");
        var vmc0 = SimHost.Bytes(G1, "vmc0");
        var g2Eth0 = SimHost.Bytes(G2, "eth0");
        double viaTun = (vmc0.Tx - vmc0Before.Tx) + (vmc0.Rx - vmc0Before.Rx);
        double viaEth0 = (eth0.Tx - eth0Before.Tx) + (eth0.Rx - eth0Before.Rx) + (g2Eth0.Tx - g2Eth0Before.Tx) + (g2Eth0.Rx - g2Eth0Before.Rx);
        Assert.True(viaTun / (viaTun + viaEth0) >= 0.95, $"only {viaTun / (viaTun + viaEth0):P1} of the bytes crossed vmc0 ({viaTun} vs eth0 {viaEth0})");
        Assert.True(viaEth0 / (viaTun + viaEth0) < 0.05);

        var peer = SimHost.Status(G1).GetProperty("peers").EnumerateArray().Single();
        Assert.Equal(2, peer.GetProperty("domid").GetInt32());
        Assert.Equal("connected", peer.GetProperty("state").GetString());
        Assert.True(peer.GetProperty("tx_bytes").GetInt64() >= (long)(0.95 * (vmc0.Tx - vmc0Before.Tx)), "the channel carried less than vmc0 saw");
        var g2Peer = SimHost.Status(G2).GetProperty("peers").EnumerateArray().Single();
        Assert.True(g2Peer.GetProperty("rx_bytes").GetInt64() >= peer.GetProperty("tx_bytes").GetInt64() * 0.95, "g2 received less than g1 sent");
        Assert.Equal(0, Drops(g2Peer, "rx_"));
    }

    [Fact]
    public void StatusCommand_PrintsPeersAndCounters()
    {
        using var host = SimHost.Up("--guests", "2");
        SimHost.ExecOk(G1, "ping", "-c", "3", "-i", "0.05", "198.18.0.2");
        string text = SimHost.ExecOk(G1, Path.Combine(SimHost.Bin, "xenvmc"), "status");
        Assert.Contains("domain 1", text);
        Assert.Contains("connected", text);
        Assert.Contains("198.18.0.2", text);
        var json = SimHost.Status(G2);
        Assert.Equal(2, json.GetProperty("domid").GetInt32());
        Assert.Equal("simulated", json.GetProperty("platform").GetString());
        Assert.True(json.GetProperty("peers")[0].GetProperty("rx_packets").GetInt64() >= 3);

        // No daemon in the dom0 namespace: a clear message and exit code 1.
        var (exit, _, error) = SimHost.Exec("xvmc-dom0", Path.Combine(SimHost.Bin, "xenvmc"), "status");
        Assert.Equal(1, exit);
        Assert.Contains("no xenvmc-guest answers", error);
    }

    private static long Drops(JsonElement peer, string prefix) =>
        peer.GetProperty("drops").EnumerateObject().Where(d => d.Name.StartsWith(prefix, StringComparison.Ordinal)).Sum(d => d.Value.GetInt64());
}
