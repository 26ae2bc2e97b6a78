using System.Runtime.InteropServices;

namespace XenVmc.XenStore.Protocol;

/// <summary>
/// <c>struct xsd_sockmsg</c>: the 16-byte header in front of every message.
/// <code>
///  0      4        8       12      16
///  +------+--------+-------+-------+
///  | type | req_id | tx_id |  len  |   all u32, host byte order
///  +------+--------+-------+-------+
/// </code>
/// </summary>
internal readonly record struct XsHeader(XsMessageType Type, uint RequestId, uint TransactionId, uint Length)
{
    public const int Size = 16;

    private const int TypeOffset = 0;
    private const int RequestIdOffset = 4;
    private const int TransactionIdOffset = 8;
    private const int LengthOffset = 12;

    /// <summary>Reads a header; the caller checks <see cref="Length"/> against the limits.</summary>
    public static XsHeader Read(ReadOnlySpan<byte> source)
    {
        if (source.Length < Size)
        {
            throw new XsProtocolException($"short XenStore header: {source.Length} of {Size} bytes");
        }

        // The protocol is host-endian (both ends share one machine), hence native reads.
        return new XsHeader(
            (XsMessageType)MemoryMarshal.Read<uint>(source[TypeOffset..]),
            MemoryMarshal.Read<uint>(source[RequestIdOffset..]),
            MemoryMarshal.Read<uint>(source[TransactionIdOffset..]),
            MemoryMarshal.Read<uint>(source[LengthOffset..]));
    }

    public void Write(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            throw new ArgumentException("destination shorter than a XenStore header", nameof(destination));
        }

        uint type = (uint)Type;
        uint requestId = RequestId;
        uint transactionId = TransactionId;
        uint length = Length;
        MemoryMarshal.Write(destination[TypeOffset..], in type);
        MemoryMarshal.Write(destination[RequestIdOffset..], in requestId);
        MemoryMarshal.Write(destination[TransactionIdOffset..], in transactionId);
        MemoryMarshal.Write(destination[LengthOffset..], in length);
    }
}
