using XenVmc.Platform.Hosting;
using XenVmc.XenStore;

namespace XenVmc.Dom0;

/// <summary>
/// Dom0's watchdog health: the daemon's whole job is XenStore, so it is healthy while the store
/// answers. A probe reads one node every <see cref="ProbeInterval"/>; when no answer came for
/// <see cref="StallLimit"/> the watchdog is no longer fed and systemd restarts the daemon, which
/// reconciles from scratch.
/// </summary>
public sealed class Dom0Health : IAsyncDisposable
{
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan StallLimit = TimeSpan.FromSeconds(5);

    private readonly CancellationTokenSource _stop = new();
    private readonly Task _probe;
    private long _lastAnswer = Environment.TickCount64;
    private string _lastError = "no answer yet";

    private Dom0Health(XenStoreClient store)
    {
        _probe = Task.Run(() => ProbeAsync(store, _stop.Token));
    }

    public static Dom0Health Start(XenStoreClient store, IServiceMonitor monitor)
    {
        var health = new Dom0Health(store);
        monitor.Watch(health.UnhealthyReason, () => null);
        return health;
    }

    internal string? UnhealthyReason()
    {
        long silent = Environment.TickCount64 - Interlocked.Read(ref _lastAnswer);
        return silent > StallLimit.TotalMilliseconds ? $"XenStore has not answered for {silent / 1000} s ({_lastError})" : null;
    }

    private async Task ProbeAsync(XenStoreClient store, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(ProbeInterval);
        do
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(StallLimit);
                await store.TryReadStringAsync("/local/domain/0/name", default, timeout.Token).ConfigureAwait(false);
                Interlocked.Exchange(ref _lastAnswer, Environment.TickCount64);
            }
            catch (Exception e) when (!ct.IsCancellationRequested && (e is OperationCanceledException || XenStoreFailure.Is(e)))
            {
                _lastError = e.Message;
            }
        }
        while (await WaitAsync(timer, ct).ConfigureAwait(false));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            return await timer.WaitForNextTickAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _probe.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }
}
