using XenVmc.Guest;
using XenVmc.Tests.Support;

namespace XenVmc.Tests.Packaging;

/// <summary>
/// The networkd files describe the TUN the guest daemon attaches to (the attach itself is proven
/// on a real persistent multi-queue TUN in the netns tests), and the routing-protocol name works
/// with the real <c>ip</c>.
/// </summary>
public sealed class NetworkdFilesTests
{
    private static Dictionary<string, string> Keys(string file) =>
        File.ReadAllLines(Path.Combine(RepoRoot.Path, "networkd", file))
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && l[0] is not '#' and not '[' && l.Contains('=', StringComparison.Ordinal))
            .ToDictionary(l => l[..l.IndexOf('=', StringComparison.Ordinal)], l => l[(l.IndexOf('=', StringComparison.Ordinal) + 1)..]);

    [Fact]
    public void Netdev_IsAVnetHeaderMultiQueueTunNamedLikeTheDaemonsDefault()
    {
        var keys = Keys("50-xenvmc-vmc0.netdev");
        Assert.Equal(new GuestOptions().Interface, keys["Name"]);
        Assert.Equal("tun", keys["Kind"]);
        Assert.Equal("yes", keys["VNetHeader"]);
        Assert.Equal("yes", keys["MultiQueue"]);
        Assert.Equal("no", keys["PacketInfo"]);
    }

    [Fact]
    public void Network_KeepsTheLinkConfiguredWithoutCarrier_AtTheDaemonsMtu()
    {
        var keys = Keys("50-xenvmc-vmc0.network");
        Assert.Equal(new GuestOptions().Interface, keys["Name"]);
        Assert.Equal(new GuestOptions().Mtu.ToString(System.Globalization.CultureInfo.InvariantCulture), keys["MTUBytes"]);
        Assert.Equal("yes", keys["ConfigureWithoutCarrier"]);
        Assert.Equal("yes", keys["IgnoreCarrierLoss"]);
        Assert.Equal("no", Keys(Path.Combine("networkd.conf.d", "xenvmc.conf"))["ManageForeignRoutes"]);
    }

    [Fact]
    public void RtProtos_NamesTheDaemonsProtocol_SoIpRouteShowProtoXenvmcWorks()
    {
        string ip = Proc.Require("ip", "iproute2");
        Proc.Require("unshare", "util-linux");
        string conf = Path.Combine(RepoRoot.Path, "iproute2", "rt_protos.d", "xenvmc.conf");
        Assert.Contains($"{GuestOptions.RouteProtocolNumber}\txenvmc", File.ReadAllText(conf), StringComparison.Ordinal);

        // A private mount and network namespace: /etc/iproute2 is a copy with (or without) our
        // file, and the route goes on a veth nobody else sees.
        using var dir = new TempDirectory();
        string script = $$"""
            set -e
            cp -a /etc/iproute2/. {{dir.Path}}/etc
            rm -f {{dir.Path}}/etc/rt_protos.d/xenvmc.conf
            mkdir -p {{dir.Path}}/etc/rt_protos.d
            [ "$1" = with ] && cp {{conf}} {{dir.Path}}/etc/rt_protos.d/
            mount --bind {{dir.Path}}/etc /etc/iproute2
            {{ip}} link add xvt0 type veth peer name xvt1
            {{ip}} link set xvt1 up
            {{ip}} link set xvt0 up
            {{ip}} route add 198.18.77.0/24 dev xvt0 proto {{GuestOptions.RouteProtocolNumber}}
            {{ip}} route add 198.18.78.0/24 dev xvt0
            {{ip}} route show proto xenvmc
            """;
        File.WriteAllText(dir.Combine("run.sh"), script);
        Directory.CreateDirectory(dir.Combine("etc"));

        var with = Proc.Run("unshare", ["--mount", "--net", "--propagation", "private", "bash", dir.Combine("run.sh"), "with"]);
        Assert.True(with.Exit == 0, with.Err);
        Assert.Equal("198.18.77.0/24 dev xvt0 scope link", with.Out.Trim());

        var without = Proc.Run("unshare", ["--mount", "--net", "--propagation", "private", "bash", dir.Combine("run.sh"), "without"]);
        Assert.NotEqual(0, without.Exit);
        Assert.Contains("xenvmc", without.Err, StringComparison.Ordinal);
    }

    /// <summary>
    /// systemd's own sysctl defaults set <c>net.ipv4.conf.*.rp_filter = 2</c>, and udev applies
    /// them to every new device; our file must win for vmc0 (and only for vmc0), both at boot and
    /// when the device appears (the <c>--prefix</c> run udev does).
    /// </summary>
    [Fact]
    public void Sysctl_TurnsTheReversePathFilterOffOnVmc0Only_OverSystemdsDefaults()
    {
        string sysctl = File.Exists("/lib/systemd/systemd-sysctl") ? "/lib/systemd/systemd-sysctl" : Proc.Require("systemd-sysctl", "systemd");
        string ip = Proc.Require("ip", "iproute2");
        Proc.Require("unshare", "util-linux");
        string conf = Path.Combine(RepoRoot.Path, "sysctl.d", "60-xenvmc.conf");
        string vmc0 = new GuestOptions().Interface;
        Assert.Contains($"net.ipv4.conf.{vmc0}.rp_filter = 0", File.ReadAllText(conf), StringComparison.Ordinal);

        using var dir = new TempDirectory();
        File.WriteAllText(dir.Combine("50-default.conf"), "net.ipv4.conf.default.rp_filter = 2\nnet.ipv4.conf.*.rp_filter = 2\n-net.ipv4.conf.all.rp_filter\n");
        string script = $$"""
            set -e
            {{ip}} tuntap add {{vmc0}} mode tun
            {{ip}} tuntap add xvt0 mode tun
            {{sysctl}} {{dir.Path}}/50-default.conf {{conf}} 2>/dev/null
            cat /proc/sys/net/ipv4/conf/{{vmc0}}/rp_filter /proc/sys/net/ipv4/conf/xvt0/rp_filter
            echo 2 > /proc/sys/net/ipv4/conf/{{vmc0}}/rp_filter
            {{sysctl}} --prefix=/net/ipv4/conf/{{vmc0}} {{dir.Path}}/50-default.conf {{conf}} 2>/dev/null
            cat /proc/sys/net/ipv4/conf/{{vmc0}}/rp_filter
            """;
        File.WriteAllText(dir.Combine("run.sh"), script);
        var run = Proc.Run("unshare", ["--net", "bash", dir.Combine("run.sh")]);
        Assert.True(run.Exit == 0, run.Err);
        Assert.Equal(["0", "2", "0"], run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
