using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;

namespace XenVmc.Platform.Hosting;

/// <summary>
/// The generic host's lifetime for a XenVMC daemon, in place of its console lifetime: SIGTERM and
/// SIGINT stop the host cleanly, and the service manager hears STOPPING=1 once, as soon as the stop
/// begins (the teardown of routes, channels and XenStore nodes takes a moment). READY=1 is not
/// the host's to send: the daemon's own work sends it through <see cref="ServiceNotifier"/> once it serves.
/// </summary>
/// <remarks>
/// Design: the signal handlers only flip state (<see cref="IHostApplicationLifetime.StopApplication"/>
/// is thread-safe and idempotent); whichever of a signal or another stop (the daemon's work ended
/// or failed) comes first sends STOPPING=1, guarded by an interlocked flag.
/// </remarks>
internal sealed class DaemonLifetime(IHostApplicationLifetime application, ServiceNotifier notifier) : IHostLifetime, IDisposable
{
    private PosixSignalRegistration? _sigterm;
    private PosixSignalRegistration? _sigint;
    private CancellationTokenRegistration _stopping;
    private int _stoppingSent;

    public Task WaitForStartAsync(CancellationToken cancellationToken)
    {
        _stopping = application.ApplicationStopping.Register(SendStopping);
        _sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        _sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private void Stop(PosixSignalContext context)
    {
        context.Cancel = true;
        SendStopping();
        application.StopApplication();
    }

    private void SendStopping()
    {
        if (Interlocked.Exchange(ref _stoppingSent, 1) == 0)
        {
            notifier.Stopping();
        }
    }

    public void Dispose()
    {
        _sigterm?.Dispose();
        _sigint?.Dispose();
        _stopping.Dispose();
    }
}
