using XenVmc.Linux;

namespace XenVmc.Platform.Simulated;

/// <summary>
/// One end of a simulated interdomain event channel: an eventfd that is readable while an event
/// is pending for us, and the peer's eventfd that our notify signals. Reading the eventfd clears
/// the pending state, the way writing the port back to /dev/xen/evtchn unmasks it.
/// </summary>
internal sealed class SimEventPort(SimHypervisorClient owner, uint port, EventFd pending, EventFd peer) : IEventPort
{
    private int _disposed;

    public uint LocalPort => port;

    public SafeFileDescriptor WaitHandle => pending.Handle;

    public void Notify() => peer.Signal(1);

    public bool Wait(int timeoutMs)
    {
        Span<PollEntry> entries = [new PollEntry(pending.Handle, Poll.POLLIN)];
        Span<short> revents = stackalloc short[1];
        if (Poll.Wait(entries, revents, timeoutMs) == 0)
        {
            return false;
        }

        return TryConsume();
    }

    public bool TryConsume() => pending.Consume() != 0;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            owner.Unbind(port);
            pending.Dispose();
            peer.Dispose();
        }
    }
}
