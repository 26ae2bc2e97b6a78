using System.Globalization;
using XenVmc.Cli;
using XenVmc.Guest;
using XenVmc.Guest.Status;
using XenVmc.Platform.Hosting;

const string Help = """
    xenvmc — XenVMC status and counters (run inside the guest, or under `ip netns exec` on a simulated host).

    usage: xenvmc status [--json] [--socket NAME]
      status      the daemon, each peer's channel state, and packet/byte/drop counters
      --json      machine-readable output
      --socket    the daemon's status socket (default @xenvmc-guest)

    exit codes: 0 ok, 1 daemon not reachable, 2 wrong usage
    """;

try
{
    var cl = CommandLine.Parse(args, ["--socket"], ["--json", "--help", "--version"]);
    if (cl.Has("--help") || cl.Positional.Count == 0)
    {
        Console.WriteLine(Help);
        return cl.Has("--help") ? 0 : 2;
    }

    if (cl.Has("--version"))
    {
        Console.WriteLine($"xenvmc {typeof(GuestOptions).Assembly.GetName().Version}");
        return 0;
    }

    if (cl.Positional is not ["status"])
    {
        throw new UsageException($"unknown command '{string.Join(' ', cl.Positional)}'; try --help");
    }

    var (snapshot, json) = StatusClient.Fetch(cl.Get("--socket", GuestOptions.DefaultStatusSocket));
    if (cl.Has("--json"))
    {
        Console.Out.Write(System.Text.Encoding.UTF8.GetString(json));
        Console.Out.WriteLine();
        return 0;
    }

    Print(snapshot);
    return 0;
}
catch (UsageException e)
{
    Console.Error.WriteLine($"xenvmc: {e.Message}");
    return 2;
}
catch (IOException e)
{
    Console.Error.WriteLine($"xenvmc: {e.Message}");
    return 1;
}

static void Print(StatusSnapshot s)
{
    var inv = CultureInfo.InvariantCulture;
    Console.WriteLine(string.Create(inv, $"domain {s.Domid} on the {s.Platform} platform, interface {s.Interface}, {s.Peers.Count} peers"));
    Console.WriteLine(string.Create(inv, $"{"PEER",-6} {"STATE",-12} {"SIDE",-5} {"TX PKTS",12} {"TX BYTES",15} {"RX PKTS",12} {"RX BYTES",15} {"DROPS",8}  ADDRESSES"));
    foreach (var p in s.Peers)
    {
        Console.WriteLine(string.Create(inv, $"{p.Domid,-6} {p.State,-12} {p.Side,-5} {p.TxPackets,12} {p.TxBytes,15} {p.RxPackets,12} {p.RxBytes,15} {p.Drops.Values.Sum(),8}  {string.Join(' ', p.Addresses)}"));
        foreach (var (reason, count) in p.Drops.Where(d => d.Value != 0))
        {
            Console.WriteLine(string.Create(inv, $"       drop {reason}: {count}"));
        }
    }

    Console.WriteLine(string.Create(inv, $"tun: read {s.Tun.ReadPackets} packets, {s.Tun.ReadBytes} bytes"));
    foreach (var (reason, count) in s.Tun.Drops.Where(d => d.Value != 0))
    {
        Console.WriteLine(string.Create(inv, $"       drop {reason}: {count}"));
    }
}
