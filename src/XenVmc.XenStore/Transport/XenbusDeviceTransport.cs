using System.Threading.Channels;
using XenVmc.Linux;

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

    private readonly SafeFileDescriptor _device;
    private readonly EventFd _wake;
    private readonly Channel<byte[]> _chunks = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleWriter = true, SingleReader = true });
    private readonly Thread _reader;
    private ReadOnlyMemory<byte> _current;
    private int _disposed;

    internal XenbusDeviceTransport(SafeFileDescriptor device, string description)
    {
        _device = device;
        Description = description;
        _wake = EventFd.Create(nonBlocking: true);

        _reader = new Thread(ReadLoop) { IsBackground = true, Name = "xenbus reader" };
        _reader.Start();
    }

    public int MaxPayload => Protocol.XsLimits.DevicePayloadMax;

    public bool OneMessagePerWrite => true;

    public string Description { get; }

    public static XenbusDeviceTransport Open(string path)
    {
        try
        {
            return new XenbusDeviceTransport(FileDescriptor.OpenReadWrite(path), path);
        }
        catch (LinuxException e)
        {
            throw new XenStoreConnectionException($"cannot open XenStore device {path}: {e.Message}", e);
        }
    }

    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        FileDescriptor.WriteAll(_device, data.Span, Description);
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

        _wake.Signal(1);
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
        try
        {
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

                int n = FileDescriptor.Read(_device, buffer, Description);
                if (n < 0)
                {
                    continue;
                }

                if (n == 0)
                {
                    break;
                }

                _chunks.Writer.TryWrite(buffer.AsSpan(0, n).ToArray());
            }
        }
        catch (Exception e)
        {
            failure = e;
        }
        finally
        {
            _chunks.Writer.TryComplete(failure);
        }
    }

    /// <summary>Blocks until the device is readable or <paramref name="stop"/> is set (Poll retries EINTR).</summary>
    private bool WaitReadable(out bool stop)
    {
        Span<PollEntry> entries = [new PollEntry(_device, Poll.POLLIN), new PollEntry(_wake.Handle, Poll.POLLIN)];
        Span<short> revents = stackalloc short[2];
        Poll.Wait(entries, revents, -1);
        stop = revents[1] != 0;
        if (!stop && (revents[0] & Poll.POLLNVAL) != 0)
        {
            throw new IOException($"{Description} is not an open file");
        }

        // POLLHUP/POLLERR without POLLIN: let read() report EOF or the error.
        return true;
    }
}
