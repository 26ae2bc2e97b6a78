using System.Runtime.InteropServices;
using System.Threading.Channels;
using XenVmc.XenStore.Interop;
using static XenVmc.XenStore.Interop.Interop;

namespace XenVmc.XenStore.Transport;

/// <summary>
/// /dev/xen/xenbus, the guest kernel's multiplexer onto the domain's one xenstore ring.
/// </summary>
// Design: the device has no async API, so a dedicated thread blocks in poll() on the device and on an
// eventfd used only to wake it for shutdown, reads whatever the kernel queued (reads may split and
// join messages: the caller parses a byte stream), and hands the chunks over through an unbounded
// channel. Writes are plain write() calls from the client's writer loop, one message each, because the
// driver acts on the first complete message of a write and drops the rest of it.
internal sealed class XenbusDeviceTransport : IXsTransport
{
    private const int ReadChunk = Protocol.XsLimits.DeviceMessageMax;

    private readonly SafeFdHandle _device;
    private readonly SafeFdHandle _wake;
    private readonly Channel<byte[]> _chunks = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleWriter = true, SingleReader = true });
    private readonly Thread _reader;
    private ReadOnlyMemory<byte> _current;
    private int _disposed;

    internal XenbusDeviceTransport(SafeFdHandle device, string description)
    {
        _device = device;
        Description = description;
        _wake = EventFd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (_wake.IsInvalid)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new IOException($"eventfd for {description} failed: {Marshal.GetPInvokeErrorMessage(errno)}");
        }

        _reader = new Thread(ReadLoop) { IsBackground = true, Name = "xenbus reader" };
        _reader.Start();
    }

    public int MaxPayload => Protocol.XsLimits.DevicePayloadMax;

    public bool OneMessagePerWrite => true;

    public string Description { get; }

    public static XenbusDeviceTransport Open(string path)
    {
        SafeFdHandle fd = Interop.Interop.Open(path, O_RDWR | O_CLOEXEC, 0);
        if (fd.IsInvalid)
        {
            int errno = Marshal.GetLastPInvokeError();
            fd.Dispose();
            throw new IOException($"cannot open XenStore device {path}: {Marshal.GetPInvokeErrorMessage(errno)}");
        }

        return new XenbusDeviceTransport(fd, path);
    }

    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        ReadOnlySpan<byte> span = data.Span;
        while (!span.IsEmpty)
        {
            nint written = Write(_device, span);
            if (written < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == EINTR)
                {
                    continue;
                }

                throw new IOException($"write to {Description} failed: {Marshal.GetPInvokeErrorMessage(errno)}");
            }

            span = span[(int)written..];
        }

        return ValueTask.CompletedTask;
    }

    public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (_current.IsEmpty)
        {
            if (!await _chunks.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return 0;
            }

            if (_chunks.Reader.TryRead(out byte[]? chunk))
            {
                _current = chunk;
            }
        }

        int n = Math.Min(buffer.Length, _current.Length);
        _current[..n].CopyTo(buffer);
        _current = _current[n..];
        return n;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        ReadOnlySpan<byte> one = [1, 0, 0, 0, 0, 0, 0, 0];
        Write(_wake, one);
        if (Thread.CurrentThread != _reader)
        {
            _reader.Join();
        }

        _device.Dispose();
        _wake.Dispose();
    }

    private void ReadLoop()
    {
        Exception? failure = null;
        bool deviceRef = false;
        bool wakeRef = false;
        try
        {
            _device.DangerousAddRef(ref deviceRef);
            _wake.DangerousAddRef(ref wakeRef);
            byte[] buffer = new byte[ReadChunk];
            while (true)
            {
                if (!WaitReadable(out bool stop))
                {
                    continue;
                }

                if (stop)
                {
                    break;
                }

                nint n = Read(_device, buffer);
                if (n < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno is EINTR or EAGAIN)
                    {
                        continue;
                    }

                    failure = new IOException($"read from {Description} failed: {Marshal.GetPInvokeErrorMessage(errno)}");
                    break;
                }

                if (n == 0)
                {
                    break;
                }

                _chunks.Writer.TryWrite(buffer.AsSpan(0, (int)n).ToArray());
            }
        }
        catch (Exception e)
        {
            failure = e;
        }
        finally
        {
            if (deviceRef)
            {
                _device.DangerousRelease();
            }

            if (wakeRef)
            {
                _wake.DangerousRelease();
            }

            _chunks.Writer.TryComplete(failure);
        }
    }

    /// <summary>False to retry (EINTR); otherwise the device is readable or <paramref name="stop"/> is set.</summary>
    private unsafe bool WaitReadable(out bool stop)
    {
        stop = false;
        PollFd* fds = stackalloc PollFd[2];
        fds[0] = new PollFd { Fd = (int)_device.DangerousGetHandle(), Events = POLLIN };
        fds[1] = new PollFd { Fd = (int)_wake.DangerousGetHandle(), Events = POLLIN };
        int ready = DangerousPoll(fds, 2, -1);
        if (ready < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno == EINTR)
            {
                return false;
            }

            throw new IOException($"poll on {Description} failed: {Marshal.GetPInvokeErrorMessage(errno)}");
        }

        if (fds[1].REvents != 0)
        {
            stop = true;
            return true;
        }

        if ((fds[0].REvents & POLLNVAL) != 0)
        {
            throw new IOException($"{Description} is not an open file");
        }

        // POLLHUP/POLLERR without POLLIN: let read() report EOF or the error.
        return true;
    }
}
