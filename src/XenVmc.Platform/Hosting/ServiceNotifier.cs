using System.Globalization;
using Microsoft.Extensions.Logging;
using XenVmc.Linux;

namespace XenVmc.Platform.Hosting;

/// <summary>
/// The daemon's side of systemd's notify protocol (sd_notify(3)) without libsystemd: READY=1
/// once, STATUS= lines, WATCHDOG=1 only while the daemon's own health check passes, STOPPING=1.
/// </summary>
/// <remarks>
/// Design: the watchdog is fed from <see cref="Watch"/>'s health check, never from a bare timer: a
/// data path that stopped making progress stops the pings, and systemd kills and restarts the unit
/// after WatchdogSec. Pings go out every half interval (sd_watchdog_enabled(3)); the status line
/// is sampled at the same cadence (or every 5 s without a watchdog) and sent only when it changed.
/// A notification that cannot be sent is logged once and never stops the daemon.
/// </remarks>
public sealed class ServiceNotifier : IServiceMonitor, IAsyncDisposable
{
    private readonly string? _socket;
    private readonly TimeSpan? _watchdogInterval;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private int _ready;
    private int _sendFailedLogged;
    private string? _lastStatus;
    private string? _lastUnhealthy;

    public ServiceNotifier(ILogger logger)
        : this(Environment.GetEnvironmentVariable("NOTIFY_SOCKET"), Environment.GetEnvironmentVariable("WATCHDOG_USEC"), Environment.GetEnvironmentVariable("WATCHDOG_PID"), Environment.ProcessId, logger)
    {
    }

    public ServiceNotifier(string? notifySocket, string? watchdogUsec, string? watchdogPid, int pid, ILogger logger)
    {
        _socket = string.IsNullOrEmpty(notifySocket) ? null : notifySocket;
        _logger = logger;
        bool ours = string.IsNullOrEmpty(watchdogPid) || watchdogPid == pid.ToString(CultureInfo.InvariantCulture);
        if (_socket is not null && ours && ulong.TryParse(watchdogUsec, NumberStyles.None, CultureInfo.InvariantCulture, out ulong usec) && usec > 0)
        {
            _watchdogInterval = TimeSpan.FromMicroseconds(usec / 2);
        }
    }

    /// <summary>Half of WatchdogSec when systemd asked for pings (and they are for this process); null otherwise.</summary>
    public TimeSpan? WatchdogInterval => _watchdogInterval;

    public bool Supervised => _socket is not null;

    /// <summary>READY=1 with a status line the first time; later calls (a new session after a migration) send only STATUS=.</summary>
    public void Ready(string status)
    {
        _lastStatus = status;
        if (Interlocked.Exchange(ref _ready, 1) == 0)
        {
            _logger.LogInformation("ready: {Status}", status);
            Send($"READY=1\nSTATUS={status}");
        }
        else
        {
            Send($"STATUS={status}");
        }
    }

    public void Status(string status)
    {
        _lastStatus = status;
        Send($"STATUS={status}");
    }

    public void Stopping(string? status = null) => Send(status is null ? "STOPPING=1" : $"STOPPING=1\nSTATUS={status}");

    public void Watch(Func<string?> unhealthyReason, Func<string?> statusLine)
    {
        if (_socket is null || _loop is not null)
        {
            return;
        }

        _loop = Task.Run(() => LoopAsync(unhealthyReason, statusLine, _stop.Token));
    }

    /// <summary>One pass of the loop: feed the watchdog if healthy, send the status if it changed. Returns whether it pinged.</summary>
    internal bool Tick(Func<string?> unhealthyReason, Func<string?> statusLine)
    {
        string? problem;
        string? status;
        try
        {
            problem = unhealthyReason();
            status = statusLine();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            problem = $"health check failed: {e.Message}";
            status = problem;
        }

        if (problem != _lastUnhealthy)
        {
            if (problem is null)
            {
                _logger.LogInformation("healthy again; feeding the watchdog");
            }
            else
            {
                _logger.LogWarning("unhealthy, not feeding the watchdog: {Reason}", problem);
            }

            _lastUnhealthy = problem;
        }

        var message = new List<string>(2);
        bool ping = problem is null && _watchdogInterval is not null;
        if (ping)
        {
            message.Add("WATCHDOG=1");
        }

        if (status is not null && status != _lastStatus)
        {
            _lastStatus = status;
            message.Add($"STATUS={status}");
        }

        if (message.Count > 0)
        {
            Send(string.Join('\n', message));
        }

        return ping;
    }

    private async Task LoopAsync(Func<string?> unhealthyReason, Func<string?> statusLine, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(_watchdogInterval ?? TimeSpan.FromSeconds(5));
        try
        {
            do
            {
                Tick(unhealthyReason, statusLine);
            }
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Send(string state)
    {
        if (_socket is null)
        {
            return;
        }

        try
        {
            SdNotify.Notify(state, _socket);
        }
        catch (LinuxException e)
        {
            if (Interlocked.Exchange(ref _sendFailedLogged, 1) == 0)
            {
                _logger.LogWarning("cannot notify the service manager: {Reason}", e.Message);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        _stop.Dispose();
    }
}
