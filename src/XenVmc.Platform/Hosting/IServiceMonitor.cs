namespace XenVmc.Platform.Hosting;

/// <summary>
/// What a daemon hands the service manager once it serves: a health check that decides whether
/// the watchdog is fed, and a one-line status that is sent whenever it changes.
/// </summary>
public interface IServiceMonitor
{
    /// <param name="unhealthyReason">null while healthy; otherwise why the watchdog is not fed</param>
    /// <param name="statusLine">what the daemon is doing, e.g. "domain 3: 2 peers, 2 channels connected"; null: nothing to add</param>
    void Watch(Func<string?> unhealthyReason, Func<string?> statusLine);
}
