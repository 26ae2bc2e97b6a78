namespace XenVmc.Rings;

/// <summary>One record returned by <see cref="RingConsumer.TryRead"/>.</summary>
/// <remarks>
/// Ownership: <see cref="Payload"/> points into shared memory. It is valid until the next
/// <see cref="RingConsumer.Release"/>, and even before that the untrusted peer can rewrite it at
/// any moment: copy headers to private memory before validating them, and never read a field
/// twice expecting the same value.
/// </remarks>
public readonly ref struct RingRecord
{
    internal RingRecord(ReadOnlySpan<byte> payload) => Payload = payload;

    public ReadOnlySpan<byte> Payload { get; }
}
