namespace XenVmc.XenStore.Protocol;

/// <summary>Builds and finds whole frames (header + payload) in a byte stream.</summary>
internal static class XsFrame
{
    /// <summary>Returns header and payload in one array, ready for a single write.</summary>
    public static byte[] Encode(XsMessageType type, uint requestId, uint transactionId, ReadOnlySpan<byte> payload)
    {
        if (payload.Length > XsLimits.PayloadMax)
        {
            throw new ArgumentException($"XenStore payload of {payload.Length} bytes exceeds {XsLimits.PayloadMax}", nameof(payload));
        }

        byte[] frame = new byte[XsHeader.Size + payload.Length];
        new XsHeader(type, requestId, transactionId, (uint)payload.Length).Write(frame);
        payload.CopyTo(frame.AsSpan(XsHeader.Size));
        return frame;
    }

    /// <summary>
    /// Looks for one complete frame at the start of <paramref name="buffer"/>. Returns false when more
    /// bytes are needed; throws <see cref="XsProtocolException"/> as soon as the header announces a
    /// payload above <see cref="XsLimits.PayloadMax"/>, because no amount of waiting makes that valid.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> buffer, out XsHeader header, out int frameLength)
    {
        frameLength = 0;
        header = default;
        if (buffer.Length < XsHeader.Size)
        {
            return false;
        }

        header = XsHeader.Read(buffer);
        if (header.Length > XsLimits.PayloadMax)
        {
            throw new XsProtocolException(
                $"XenStore frame announces {header.Length} payload bytes (limit {XsLimits.PayloadMax}), type {(uint)header.Type}");
        }

        int total = XsHeader.Size + (int)header.Length;
        if (buffer.Length < total)
        {
            return false;
        }

        frameLength = total;
        return true;
    }
}
