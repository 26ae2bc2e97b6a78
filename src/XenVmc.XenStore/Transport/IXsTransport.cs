namespace XenVmc.XenStore.Transport;

/// <summary>
/// A byte stream to xenstored: the daemon's unix socket or the guest's xenbus device. Framing is the
/// client's job; a transport only moves bytes. One reader and one writer may use it concurrently.
/// </summary>
internal interface IXsTransport : IDisposable
{
    /// <summary>Largest request payload this transport can carry.</summary>
    int MaxPayload { get; }

    /// <summary>
    /// True when every write must hold exactly one message: /dev/xen/xenbus acts on the first
    /// complete message in a write and discards the rest of the buffer.
    /// </summary>
    bool OneMessagePerWrite { get; }

    /// <summary>What to name in error messages, e.g. the socket path.</summary>
    string Description { get; }

    ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>Reads what is available, at least one byte; 0 means end of stream.</summary>
    ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken);
}
