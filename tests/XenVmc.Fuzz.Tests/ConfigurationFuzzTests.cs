using System.Text;
using XenVmc.Dom0;
using XenVmc.Guest;
using XenVmc.Platform.Hosting;
using Xunit.Abstractions;

namespace XenVmc.Fuzz.Tests;

/// <summary>
/// The daemons' configuration loader on whatever bytes <c>/etc/xenvmc/*.json</c> holds: both
/// daemons' loaders end with a configuration or <see cref="ConfigurationException"/> (the one-line
/// exit-2 error), nothing else, and an accepted configuration has values inside their ranges.
/// </summary>
public sealed class ConfigurationFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public void GuestAndDom0ConfigurationFiles()
    {
        var loop = new FuzzLoop("config", output, maxLength: 4096);
        loop.Run(Seeds().Select(Encoding.UTF8.GetBytes), Execute);
        Assert.True(loop.Signatures > 10, $"only {loop.Signatures} behaviours");
    }

    internal static IEnumerable<string> Seeds() =>
    [
        "{}",
        """{ "Interface": "vmc0", "Mtu": 65521, "RingKiB": 1024, "PollUs": 50, "LogLevel": "Debug" }""",
        """{ "StatusSocket": "@xenvmc", "PeerTimeoutMs": 1500, "Platform": "xen", "PidFile": "/run/x.pid" }""",
        """{ "Pairing": { "Mode": "groups", "Groups": [ [1, 2], [3] ], "Deny": [ 4 ], "DenyPairs": [ [1, 3] ] } }""",
        """{ "Pairing": { "Mode": "bridge", "Bridges": [ "xenbr0" ] }, "Store": "/run/xenstored/socket" }""",
        """{ "RingKiB": 3, "Mtu": "x", "Unknown": 1 }""",
        "[1, 2]",
        "{ \"Interface\": \"a/b\"",
    ];

    /// <summary>Loads <paramref name="input"/> as each daemon's file; returns which loader accepted it, or the refused option.</summary>
    internal static string Execute(byte[] input)
    {
        string file = Path.Combine(Path.GetTempPath(), $"xenvmc-fuzz-config-{Environment.ProcessId}.json");
        File.WriteAllBytes(file, input);
        try
        {
            var guest = Outcome(() =>
            {
                var cl = CommandLine.Parse(["--config", file], ["--config"], []);
                var config = GuestConfiguration.Load(cl, new Dictionary<string, string>(), "/nonexistent");
                if (config.Options.RingBytes < GuestOptions.MinRingBytes || config.Options.RingBytes > GuestOptions.MaxRingBytes)
                {
                    throw new InvalidOperationException($"accepted a ring of {config.Options.RingBytes} bytes");
                }
            });
            var dom0 = Outcome(() =>
            {
                var cl = CommandLine.Parse(["--config", file], ["--config"], []);
                _ = Dom0Configuration.Load(cl, new Dictionary<string, string>(), "/nonexistent");
            });
            return $"{guest}/{dom0}";
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static string Outcome(Action load)
    {
        try
        {
            load();
            return "ok";
        }
        catch (ConfigurationException e)
        {
            // One behaviour per refused option (the text up to the first colon), not per value.
            return e.Message.Split(':')[0];
        }
    }
}
