using XenVmc.Platform.Firewall;

namespace XenVmc.Guest.Firewall;

/// <summary>Reads the guest's nftables rule set at start and then periodically, logging the <see cref="GuestFirewall"/> warning once per change.</summary>
/// <remarks>
/// Design: one task owns the reads; <see cref="Warning"/> is a volatile reference the status
/// snapshot reads without a lock.
/// </remarks>
internal sealed class GuestFirewallWatch : IAsyncDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    private readonly CancellationTokenSource _stop = new();
    private readonly string _bypass;
    private readonly GuestLog _log;
    private readonly Task _loop;
    private volatile string? _warning;

    private GuestFirewallWatch(string bypass, GuestLog log)
    {
        _bypass = bypass;
        _log = log;
        _loop = Task.Run(LoopAsync);
    }

    public string? Warning => _warning;

    public static GuestFirewallWatch Start(string bypass, GuestLog log) => new(bypass, log);

    private async Task LoopAsync()
    {
        try
        {
            while (true)
            {
                var nft = await NftCommand.RunAsync("nft", ["-j", "list", "ruleset"], _stop.Token).ConfigureAwait(false);
                string? warning = null;
                if (nft.Output is not null)
                {
                    try
                    {
                        warning = GuestFirewall.Warning(NftJson.Parse(nft.Output), _bypass);
                    }
                    catch (FormatException e)
                    {
                        warning = "could not read the guest's nft rule set: " + e.Message;
                    }
                }

                if (warning != _warning && warning is not null)
                {
                    _log.FirewallSideDoor(warning);
                }

                _warning = warning;
                await Task.Delay(Interval, _stop.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }
}
