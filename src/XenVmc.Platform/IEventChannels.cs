using XenVmc.Linux;

namespace XenVmc.Platform;

/// <summary>
/// Interdomain event channels, as <c>/dev/xen/evtchn</c> offers them: one side binds an unbound
/// port for a named remote domain, the other binds to that port; either side can then notify.
/// </summary>
public interface IEventChannels
{
    IEventPort BindUnbound(ushort remoteDomain);

    IEventPort BindInterdomain(ushort remoteDomain, uint remotePort);
}

/// <summary>
/// One bound port. Notifications coalesce into a pending flag, as Xen's do: many notifies
/// before a wait are seen as one.
/// </summary>
public interface IEventPort : IDisposable
{
    uint LocalPort { get; }

    /// <summary>
    /// No event channel behind it (<see cref="PolledEventPort"/>): notifications are not
    /// delivered, so whoever waits for the peer polls the shared ring instead.
    /// </summary>
    bool Polled => false;

    /// <summary>Poll-able: readable while an event is pending.</summary>
    SafeFileDescriptor WaitHandle { get; }

    void Notify();

    /// <summary>Waits up to <paramref name="timeoutMs"/> for an event; clears it and unmasks the port.</summary>
    bool Wait(int timeoutMs);

    /// <summary>Clears a pending event without waiting; true if one was pending.</summary>
    bool TryConsume();

    /// <summary>
    /// Lets go of a port bound before this domain was suspended and resumed (saved and restored,
    /// or migrated): the binding died with the old domain, and the platform releases what it safely
    /// can.
    /// </summary>
    void Abandon() => Dispose();
}
