using Microsoft.Extensions.Logging;
using XenVmc.Guest;
using XenVmc.Platform.Hosting;
using XenVmc.Tests.Support;

namespace XenVmc.Tests.Guest;

/// <summary>guest.json, XENVMC_GUEST_* and the command line: precedence, defaults, and refusals that name option, value and what is allowed.</summary>
public sealed class GuestConfigurationTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private static readonly Dictionary<string, string> NoEnvironment = [];

    public void Dispose() => _dir.Dispose();

    private GuestConfiguration Load(string? json, Dictionary<string, string>? environment = null, params string[] args)
    {
        string file = _dir.Combine("guest.json");
        if (json is not null)
        {
            File.WriteAllText(file, json);
        }

        var cl = CommandLine.Parse(args, [.. GuestConfiguration.CommandLineKeys.Keys, "--config"], ["--verbose"]);
        return GuestConfiguration.Load(cl, environment ?? NoEnvironment, file);
    }

    private ConfigurationException Refused(string? json, Dictionary<string, string>? environment = null, params string[] args) =>
        Assert.Throws<ConfigurationException>(() => Load(json, environment, args));

    [Fact]
    public void CoalesceUdp_IsOffUnlessAskedFor()
    {
        Assert.False(Load(null).Options.CoalesceUdp);
        Assert.True(Load(null, null, "--coalesce-udp", "on").Options.CoalesceUdp);
        Assert.True(Load(null, new() { ["XENVMC_GUEST_COALESCEUDP"] = "on" }).Options.CoalesceUdp);
    }

    [Fact]
    public void NoFile_GivesTheDefaults()
    {
        var c = Load(null);
        Assert.Equal(new GuestOptions(), c.Options);
        Assert.Equal("auto", c.Platform);
        Assert.Equal(LogLevel.Information, c.LogLevel);
        Assert.Null(c.PidFile);
        Assert.Equal("no configuration file", c.Source);
    }

    [Fact]
    public void File_ThenEnvironment_ThenCommandLine()
    {
        string json = """
            { // comments are allowed
              "Interface": "xvmc0", "Mtu": 9000, "RingKiB": 1024, "StatusSocket": "/run/xenvmc/status",
              "PeerTimeoutMs": 3000, "PollUs": 0, "LogLevel": "warning", "PidFile": "/run/xenvmc-guest.pid"
            }
            """;
        var fromFile = Load(json);
        Assert.Equal("xvmc0", fromFile.Options.Interface);
        Assert.Equal(9000, fromFile.Options.Mtu);
        Assert.Equal(1024 * 1024, fromFile.Options.RingBytes);
        Assert.Equal("/run/xenvmc/status", fromFile.Options.StatusSocket);
        Assert.Equal(TimeSpan.FromSeconds(3), fromFile.Options.PeerTimeout);
        Assert.Equal(0, fromFile.Options.PollMicroseconds);
        Assert.Equal(LogLevel.Warning, fromFile.LogLevel);
        Assert.Equal("/run/xenvmc-guest.pid", fromFile.PidFile);

        var env = new Dictionary<string, string> { ["XENVMC_GUEST_MTU"] = "4000", ["XENVMC_GUEST_INTERFACE"] = "env0", ["OTHER_MTU"] = "1" };
        var fromEnv = Load(json, env);
        Assert.Equal(4000, fromEnv.Options.Mtu);
        Assert.Equal("env0", fromEnv.Options.Interface);

        var fromArgs = Load(json, env, "--mtu", "1500", "--verbose");
        Assert.Equal(1500, fromArgs.Options.Mtu);
        Assert.Equal("env0", fromArgs.Options.Interface);
        Assert.Equal(LogLevel.Debug, fromArgs.LogLevel);
    }

    [Fact]
    public void SimulatedPlatform_TakesItsSockets()
    {
        var c = Load(null, null, "--platform", "sim", "--xenbus", "/run/x/xb", "--hypervisor", "/run/x/hv");
        Assert.Equal(("sim", "/run/x/xb", "/run/x/hv"), (c.Platform, c.Xenbus, c.Hypervisor));
    }

    [Theory]
    [InlineData("""{ "Mtu": 70000 }""", "option Mtu: '70000'", "1280 to 65535")]
    [InlineData("""{ "Mtu": "big" }""", "option Mtu: 'big'", "whole number")]
    [InlineData("""{ "RingKiB": 768 }""", "option RingKiB: '768'", "power of two from 512 to 1024")]
    [InlineData("""{ "RingKiB": 256 }""", "option RingKiB: '256'", "512 to 1024")]
    [InlineData("""{ "Interface": "a-very-long-name0" }""", "option Interface: 'a-very-long-name0'", "1 to 15 characters")]
    [InlineData("""{ "Interface": "a/b" }""", "option Interface: 'a/b'", "no '/'")]
    [InlineData("""{ "StatusSocket": "relative" }""", "option StatusSocket: 'relative'", "abstract")]
    [InlineData("""{ "Platform": "kvm" }""", "option Platform: 'kvm'", "auto, xen, sim")]
    [InlineData("""{ "Platform": "sim" }""", "option Xenbus", "Platform sim")]
    [InlineData("""{ "LogLevel": "loud" }""", "option LogLevel: 'loud'", "Trace, Debug, Information")]
    [InlineData("""{ "PidFile": "guest.pid" }""", "option PidFile: 'guest.pid'", "absolute path")]
    [InlineData("""{ "PeerTimeoutMs": 10 }""", "option PeerTimeoutMs: '10'", "100 to 60000")]
    [InlineData("""{ "PollUs": 5000 }""", "option PollUs: '5000'", "0 to 1000")]
    [InlineData("""{ "CoalesceUdp": "yes" }""", "option CoalesceUdp: 'yes'", "off, on")]
    [InlineData("""{ "Mut": 9000 }""", "option Mut", "allowed options: Platform")]
    [InlineData("""{ "Mtu": 9000 """, "not valid JSON", "line 1")]
    [InlineData("""[ 1, 2 ]""", "top level must be a JSON object", "guest.json")]
    public void WrongFile_IsRefused_NamingOptionValueAndWhatIsAllowed(string json, string named, string allowed)
    {
        var e = Refused(json);
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
        Assert.Contains(allowed, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WrongEnvironmentOrCommandLine_IsRefusedToo()
    {
        Assert.Contains("option Mtu: '12'", Refused(null, new() { ["XENVMC_GUEST_MTU"] = "12" }).Message, StringComparison.Ordinal);
        Assert.Contains("option BOGUS (from the XENVMC_GUEST_* environment)", Refused(null, new() { ["XENVMC_GUEST_BOGUS"] = "1" }).Message, StringComparison.Ordinal);
        Assert.Contains("option RingKiB: '2048'", Refused(null, null, "--ring-kib", "2048").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ExplicitConfigFile_MustExist()
    {
        var cl = CommandLine.Parse(["--config", _dir.Combine("missing.json")], ["--config"], []);
        var e = Assert.Throws<ConfigurationException>(() => GuestConfiguration.Load(cl, NoEnvironment, _dir.Combine("guest.json")));
        Assert.Contains("option --config", e.Message, StringComparison.Ordinal);
        Assert.Contains("missing.json", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ShippedDefaultFile_LoadsAndEqualsTheDefaults()
    {
        string shipped = Path.Combine(RepoRoot.Path, "packaging", "etc", "xenvmc", "guest.json");
        var cl = CommandLine.Parse(["--config", shipped], ["--config"], []);
        var c = GuestConfiguration.Load(cl, NoEnvironment);
        Assert.Equal(new GuestOptions(), c.Options);
        Assert.Equal("auto", c.Platform);
    }
}
