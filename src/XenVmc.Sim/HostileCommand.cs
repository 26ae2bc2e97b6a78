using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using XenVmc.Guest;
using XenVmc.Platform.Hosting;
using XenVmc.Platform.Layout;
using XenVmc.Platform.Simulated;

namespace XenVmc.Sim;

/// <summary>
/// <c>xenvmc-sim hostile I --victim J [--attacks A,B,…] [--valid N] [--rounds N]</c>: in place of
/// guest I's daemon (stop it first), a peer that speaks the real handshake with the real channel
/// code, proves the channel carries traffic (ICMP echo requests the victim's kernel answers
/// through the ring), then breaks one rule per round in the pages it shares and reports how
/// the victim reacted. One line per round; exit 0 when every round ended with the victim
/// disconnecting and routing us through eth0 again.
/// </summary>
internal static class HostileCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var cl = CommandLine.Parse(args, ["--run-dir", "--victim", "--attacks", "--valid", "--rounds", "--timeout", "--seconds"], ["--unpaired"]);
        var paths = new SimPaths(cl.Get("--run-dir", SimPaths.DefaultRunDirectory));
        if (cl.Positional is not [var index] || cl.Get("--victim") is not { } victimIndex)
        {
            throw new UsageException("usage: xenvmc-sim hostile <guest index> --victim <guest index> [--attacks a,b,…] [--valid N] [--rounds N] [--seconds S] [--unpaired]");
        }

        var attacks = HostileAttacks.Parse(cl.Get("--attacks", string.Join(',', HostileAttacks.Names)));
        int valid = cl.GetInt("--valid", 5, 0, 1000);
        int rounds = cl.GetInt("--rounds", attacks.Count, 1, 100000);
        var until = cl.Has("--seconds") ? DateTime.UtcNow.AddSeconds(cl.GetInt("--seconds", 60, 1, 86400)) : DateTime.MaxValue;
        var timeout = TimeSpan.FromSeconds(cl.GetInt("--timeout", 30, 1, 600));
        var state = HostState.Load(paths) ?? throw new UsageException("no simulated host is up");
        var self = state.Guest(index);
        var victim = state.Guest(victimIndex);
        if (HostServices.PidFromFile(paths.PidFile(self.Namespace)) is int pid && HostServices.IsAlive(pid))
        {
            throw new UsageException($"guest {index}'s daemon runs (pid {pid}); `xenvmc-sim daemon stop {index}` first");
        }

        string spoofed = state.Guests.FirstOrDefault(g => g.Index != self.Index && g.Index != victim.Index)?.Ipv4 ?? "198.18.0.254";
        using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
        using var platform = new SimPlatform(paths.GuestXenbus(self.Namespace), paths.GuestHypervisor(self.Namespace));
        await using var store = platform.OpenStore();
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cts.Cancel();
        };

        string domidText = await store.ReadStringAsync("domid", default, cts.Token);
        if (!XenVmcPaths.TryParseDomid(domidText, out ushort domid))
        {
            throw new IOException($"domid '{domidText}' is not a domain id");
        }

        var peer = new HostilePeer(domid, store, platform, loggers.CreateLogger("hostile"), victim, self.Ipv4, spoofed);
        int failures = 0;
        var summary = new List<HostileRound>();
        await peer.AnnounceAsync(cts.Token);
        if (cl.Has("--unpaired"))
        {
            // Dom0 did not pair us: offer a channel anyway and see whether the victim takes it.
            string verdict = await peer.OfferUnpairedAsync(timeout, cts.Token);
            Console.WriteLine(verdict);
            await peer.WithdrawAsync(cts.Token);
            return verdict.StartsWith("refused", StringComparison.Ordinal) ? 0 : 1;
        }

        for (int round = 0; round < rounds && DateTime.UtcNow < until; round++)
        {
            var attack = attacks[round % attacks.Count];
            var result = await peer.RunRoundAsync(attack, valid, timeout, cts.Token);
            summary.Add(result);
            Console.WriteLine(result.ToString());
            if (!result.Disconnected || result.VictimRouteAfter != "eth0")
            {
                failures++;
            }
        }

        await peer.WithdrawAsync(cts.Token);
        Console.WriteLine(JsonSerializer.Serialize(summary, HostileJson.Default.ListHostileRound));
        return failures == 0 ? 0 : 1;
    }
}
