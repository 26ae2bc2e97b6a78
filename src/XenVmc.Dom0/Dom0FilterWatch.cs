using System.Security.Cryptography;
using System.Text;
using XenVmc.Linux;
using XenVmc.Platform.Firewall;

namespace XenVmc.Dom0;

/// <summary>
/// Reads Dom0's packet filters (nftables, the legacy iptables/ebtables tools when installed, the
/// bridge-nf-call sysctls, Open vSwitch bridges when <c>ovs-vsctl</c> is installed) once a second,
/// and publishes a new <see cref="Dom0FilterView"/> when what they print changes.
/// </summary>
/// <remarks>
/// Design: one polling task owns the readers; <see cref="Current"/> is a volatile reference to an
/// immutable view, so the reconcile loop reads it without a lock. Changes are detected by a hash of
/// everything read; a change calls <c>onChange</c> (which marks the daemon dirty) after the new view
/// is published. nftables is listed only when its rule-set generation (one netlink request, read
/// before the listing) differs from the one of the last good listing, or when that listing failed:
/// running <c>nft</c> once a second kept a slow Dom0 busy and made listings time out, which holds
/// every pair. Without the generation (no nf_tables netlink) nft is listed every second.
/// </remarks>
internal sealed class Dom0FilterWatch : IAsyncDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private const string BridgeSysctls = "/proc/sys/net/bridge";

    private readonly CancellationTokenSource _stop = new();
    private readonly Action _onChange;
    private readonly Dom0Log _log;
    private volatile Dom0FilterView _current = Dom0FilterView.None;
    private byte[] _hash = [];
    private NfTablesGeneration? _generation;
    private uint? _listedGeneration;
    private ToolResult _nft = ToolResult.Missing;
    private Task _loop = Task.CompletedTask;

    private Dom0FilterWatch(Action onChange, Dom0Log log)
    {
        _onChange = onChange;
        _log = log;
    }

    public Dom0FilterView Current => _current;

    /// <summary>Reads the filters once (so the first pairing already honours them), then polls.</summary>
    public static async Task<Dom0FilterWatch> StartAsync(Action onChange, Dom0Log log, CancellationToken ct)
    {
        var watch = new Dom0FilterWatch(onChange, log);
        try
        {
            watch._generation = NfTablesGeneration.Open();
        }
        catch (IOException)
        {
            // no NETLINK_NETFILTER: list every second
        }

        await watch.RefreshAsync(ct).ConfigureAwait(false);
        watch._loop = watch.PollAsync();
        return watch;
    }

    private async Task PollAsync()
    {
        try
        {
            while (true)
            {
                await Task.Delay(Interval, _stop.Token).ConfigureAwait(false);
                if (await RefreshAsync(_stop.Token).ConfigureAwait(false))
                {
                    _onChange();
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>Reads everything; true when it differs from the last read.</summary>
    private async Task<bool> RefreshAsync(CancellationToken ct)
    {
        var nft = await ListNftAsync(ct).ConfigureAwait(false);
        var brnf = new BridgeNetfilter(Sysctl("bridge-nf-call-iptables"), Sysctl("bridge-nf-call-ip6tables"), Sysctl("bridge-nf-call-arptables"));
        var legacy = new List<(string Tool, ToolResult Result, bool Relevant)>
        {
            ("iptables-legacy-save", await NftCommand.RunAsync("iptables-legacy-save", [], ct).ConfigureAwait(false), brnf.CallIptables),
            ("ip6tables-legacy-save", await NftCommand.RunAsync("ip6tables-legacy-save", [], ct).ConfigureAwait(false), brnf.CallIp6tables),
            ("ebtables-legacy-save", await NftCommand.RunAsync("ebtables-legacy-save", [], ct).ConfigureAwait(false), true),
        };
        var ovs = await NftCommand.RunAsync("ovs-vsctl", ["list-br"], ct).ConfigureAwait(false);

        var text = new StringBuilder().Append(nft.Output).Append('\0').Append(nft.Error).Append('\0').Append(brnf.ToString());
        foreach (var (tool, result, relevant) in legacy)
        {
            text.Append('\0').Append(tool).Append(relevant).Append(result.Output).Append(result.Error);
        }

        text.Append('\0').Append(ovs.Output).Append(ovs.Error);
        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()));
        if (hash.AsSpan().SequenceEqual(_hash))
        {
            return false;
        }

        _hash = hash;
        _current = Build(nft, brnf, legacy, ovs);
        _log.FilterRead(nft.Installed ? $"{_current.Nft.Chains.Count} nft chains, {_current.Nft.Rules.Count()} rules" : "nft not installed",
            brnf.CallIptables, brnf.CallIp6tables, brnf.CallArptables, _current.Unanalysed.Count > 0 ? string.Join("; ", _current.Unanalysed) : "none");
        return true;
    }

    /// <summary>nft's listing, or the last one when the rule-set generation has not changed since it succeeded.</summary>
    private async Task<ToolResult> ListNftAsync(CancellationToken ct)
    {
        uint? generation = ReadGeneration();
        if (generation is not null && generation == _listedGeneration)
        {
            return _nft;
        }

        _nft = await NftCommand.RunAsync("nft", ["-j", "list", "ruleset"], ct).ConfigureAwait(false);
        _listedGeneration = _nft.Error is null ? generation : null;
        return _nft;
    }

    private uint? ReadGeneration()
    {
        try
        {
            return _generation?.Read();
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            return null; // unknown: list
        }
    }

    internal static Dom0FilterView Build(ToolResult nft, BridgeNetfilter brnf, IEnumerable<(string Tool, ToolResult Result, bool Relevant)> legacy, ToolResult ovs)
    {
        var unanalysed = new List<string>();
        var ruleset = NftRuleset.Empty;
        if (nft.Error is not null)
        {
            unanalysed.Add("nft -j list ruleset failed: " + nft.Error);
        }
        else if (nft.Output is not null)
        {
            try
            {
                ruleset = NftJson.Parse(nft.Output);
            }
            catch (FormatException e)
            {
                unanalysed.Add(e.Message);
            }
        }

        foreach (var (tool, result, relevant) in legacy.Where(l => l.Result.Installed && l.Relevant))
        {
            if (result.Error is not null)
            {
                unanalysed.Add(result.Error);
            }
            else if (LegacyFilters(result.Output ?? "") is { } what)
            {
                unanalysed.Add($"{tool}: {what} (legacy rules are not analysed)");
            }
        }

        if (ovs.Error is not null)
        {
            unanalysed.Add("ovs-vsctl list-br failed: " + ovs.Error);
        }

        var ovsBridges = (ovs.Output ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        return new Dom0FilterView(ruleset, brnf, unanalysed, ovsBridges);
    }

    /// <summary>In <c>*-save</c> output: the first rule (<c>-A …</c>) or chain policy other than ACCEPT, or null when there is none.</summary>
    internal static string? LegacyFilters(string save)
    {
        foreach (string raw in save.Split('\n'))
        {
            string line = raw.Trim();
            if (line.StartsWith("-A ", StringComparison.Ordinal))
            {
                return "rule '" + line + "'";
            }

            if (line.StartsWith(':') && line.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [_, var policy, ..] && policy is not ("ACCEPT" or "-"))
            {
                return "chain policy '" + line + "'";
            }
        }

        return null;
    }

    private static bool Sysctl(string name)
    {
        try
        {
            return File.ReadAllText(Path.Combine(BridgeSysctls, name)).Trim() != "0";
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return false; // br_netfilter is not loaded: ip/ip6/arp hooks never see bridged traffic
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return true; // unreadable: assume the worst
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _generation?.Dispose();
        _stop.Dispose();
    }
}
