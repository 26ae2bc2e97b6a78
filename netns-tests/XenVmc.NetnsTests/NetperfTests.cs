using System.Globalization;

namespace XenVmc.NetnsTests;

/// <summary>
/// netperf (TCP_STREAM, TCP_RR, TCP_CRR, UDP_RR) between two simulated guests through the bypass:
/// each test completes, and vmc0's counters show the bypass carried it while eth0 stood still.
/// netperf is in Debian 12's non-free component; netns-tests/install-netperf.sh installs it.
/// </summary>
public sealed class NetperfTests
{
    private const string G1 = "xvmc-g1";
    private const string G2 = "xvmc-g2";
    private const string Peer = "198.18.0.2";
    private const string Port = "12865";

    [Fact]
    public void Netperf_StreamAndRequestResponseTests_RunThroughVmc0()
    {
        Assert.True(SimHost.Run("sh", ["-c", "command -v netperf && command -v netserver"]).Exit == 0,
            "netperf is not installed: run netns-tests/install-netperf.sh (it enables Debian's non-free component)");
        using var host = SimHost.Up("--guests", "2");
        Assert.True(SimHost.WaitUntil(() => SimHost.Exec(G1, "ip", "route", "show", "table", "all", "proto", "86").Output.Contains(Peer, StringComparison.Ordinal), TimeSpan.FromSeconds(20)),
            $"g1 has its peer route to {Peer}\n{SimHost.Logs()}");
        SimHost.ExecOk(G1, "ping", "-c", "2", "-i", "0.2", "-W", "2", Peer);

        string pidFile = Path.Combine(Path.GetTempPath(), $"xenvmc-netns-netserver-{Guid.NewGuid():N}.pid");
        SimHost.ExecOk(G2, "sh", "-c", $"netserver -D -p {Port} >/dev/null 2>&1 & echo $! > {pidFile}");
        try
        {
            Assert.True(SimHost.WaitUntil(() => SimHost.Exec(G2, "ss", "-Htln", "sport", "= :" + Port).Output.Trim().Length > 0, TimeSpan.FromSeconds(5)), "netserver did not start");
            foreach (string test in (string[])["TCP_STREAM", "TCP_RR", "TCP_CRR", "UDP_RR"])
            {
                var (vmc0Before, eth0Before) = (Packets(G1, "vmc0"), Packets(G1, "eth0"));
                var (exit, output, error) = SimHost.Exec(G1, "netperf", "-H", Peer, "-p", Port, "-t", test, "-l", "2", "-P", "0", "-f", "m",
                    "--", "-o", "THROUGHPUT,REMOTE_BYTES_RECVD,TRANSACTION_RATE");
                Assert.True(exit == 0, $"netperf {test} through the bypass failed: {output}{error}\n{SimHost.Logs()}");
                string[] fields = output.Trim().Split('\n')[^1].Split(',');
                double throughput = double.Parse(fields[0], CultureInfo.InvariantCulture);
                long bytes = long.Parse(fields[1], CultureInfo.InvariantCulture);
                double transactions = double.Parse(fields[2], CultureInfo.InvariantCulture);
                var (vmc0After, eth0After) = (Packets(G1, "vmc0"), Packets(G1, "eth0"));
                long vmc0Tx = vmc0After.TxBytes - vmc0Before.TxBytes;
                long vmc0Packets = vmc0After.TxPackets - vmc0Before.TxPackets;
                long eth0Packets = eth0After.TxPackets - eth0Before.TxPackets;

                Assert.True(throughput > 0, $"netperf {test} measured nothing: {output}");
                if (test == "TCP_STREAM")
                {
                    // Every byte netserver received left g1 through vmc0.
                    Assert.True(vmc0Tx >= bytes, $"{test}: vmc0 sent {vmc0Tx} bytes, netserver received {bytes}");
                }
                else
                {
                    // At least one packet per transaction (TCP_CRR: a whole connection per transaction).
                    Assert.True(transactions > 0, $"netperf {test} completed no transaction: {output}");
                    Assert.True(vmc0Packets >= (long)(transactions * 2 * 0.9), $"{test}: {transactions:F0} transactions/s for 2 s, but vmc0 sent only {vmc0Packets} packets");
                }

                Assert.True(eth0Packets < 50, $"{test}: eth0 sent {eth0Packets} packets, so the test did not stay on the bypass");
            }
        }
        finally
        {
            SimHost.Run("sh", ["-c", $"kill $(cat {pidFile}) 2>/dev/null; rm -f {pidFile}"]);
        }
    }

    private static (long TxBytes, long TxPackets) Packets(string netns, string dev)
    {
        string output = SimHost.ExecOk(netns, "ip", "-s", "-j", "link", "show", "dev", dev);
        var tx = System.Text.Json.JsonDocument.Parse(output).RootElement[0].GetProperty("stats64").GetProperty("tx");
        return (tx.GetProperty("bytes").GetInt64(), tx.GetProperty("packets").GetInt64());
    }
}
