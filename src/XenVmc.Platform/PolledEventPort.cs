using XenVmc.Linux;

namespace XenVmc.Platform;

/// <summary>
/// A channel without an event channel: nothing is bound in the kernel, notifying does nothing,
/// and the consumer polls its ring at a short interval instead of sleeping until notified
/// (<see cref="IEventPort.Polled"/>). Offers publish it as port 0.
/// </summary>
/// <remarks>
/// Why it exists: Linux's <c>/dev/xen/evtchn</c> (drivers/xen/evtchn.c, from 6.1 to the current
/// kernel) forgets the interrupt of every user-bound port when the domain resumes after a save or
/// a migration (<c>xen_irq_resume</c> clears the port-to-interrupt table), but keeps the port in
/// the descriptor's list; releasing it later (unbind, close, process exit) reaches
/// <c>BUG_ON(irq &lt; 0)</c> in <c>evtchn_unbind_from_user</c>, or, when the port number was
/// handed out again after the resume, unbinds the new owner's interrupt. No sequence of calls on
/// the device avoids that once a port was bound across a suspend, and a guest cannot see a
/// suspend coming, so a Xen guest that may be saved or migrated binds no port at all.
/// The wait handle is an eventfd that nothing signals: the data thread can poll it alongside
/// real ports and relies on its timeout.
/// </remarks>
public sealed class PolledEventPort : IEventPort
{
    private readonly EventFd _never = EventFd.Create(nonBlocking: true);

    public uint LocalPort => 0;

    public bool Polled => true;

    public SafeFileDescriptor WaitHandle => _never.Handle;

    public void Notify()
    {
    }

    /// <summary>Sleeps for the timeout: there is nothing to be woken by.</summary>
    public bool Wait(int timeoutMs)
    {
        Thread.Sleep(Math.Max(timeoutMs, 0));
        return false;
    }

    public bool TryConsume() => false;

    public void Dispose() => _never.Dispose();
}

/// <summary>Event channels that bind nothing: every port is a <see cref="PolledEventPort"/>.</summary>
public sealed class PolledEventChannels : IEventChannels
{
    public static readonly PolledEventChannels Instance = new();

    private PolledEventChannels()
    {
    }

    public IEventPort BindUnbound(ushort remoteDomain) => new PolledEventPort();

    public IEventPort BindInterdomain(ushort remoteDomain, uint remotePort) => new PolledEventPort();
}
