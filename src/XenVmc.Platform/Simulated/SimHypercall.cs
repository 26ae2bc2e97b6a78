using System.Buffers.Binary;

namespace XenVmc.Platform.Simulated;

/// <summary>
/// The simulated hypervisor's wire format: one SOCK_SEQPACKET message per request and per reply,
/// little-endian. A domain's connection is its identity (each domain has its own socket), so no
/// request carries the caller's domid — the same way Xen knows who issued a hypercall.
/// Replies carry file descriptors (SCM_RIGHTS) for pages and ports.
/// </summary>
/// <remarks>
/// Request:  u32 op | u32 domain | u32 arg | u32 flags | u32 count | u32 refs[count]
/// Reply:    i32 errno (0 = success) | u32 port | u64 offset | u32 count | u32 refs[count]
/// </remarks>
internal static class SimHypercall
{
    public const int MaxMessage = 4096;
    public const int RequestHeaderSize = 20;
    public const uint FlagWritable = 1;
    public const int ReplyHeaderSize = 20;
    public const int MaxRefs = (MaxMessage - ReplyHeaderSize) / 4;
    public const int PageSize = 4096;

    /// <summary>Xen's DOMID_SELF: "the caller", where a request names a granter.</summary>
    public const uint DomidSelf = 0x7FF0;

    public enum Op : uint
    {
        /// <summary>domain = grantee, arg = pages, flags = writable. Reply: refs, fd (read-write).</summary>
        GrantAlloc = 1,

        /// <summary>domain = granter, flags = writable, refs. Reply: offset, fd.</summary>
        GrantMap = 2,

        /// <summary>refs[0] = first ref of an allocation of ours: ends the grant.</summary>
        GrantRelease = 3,

        /// <summary>domain = remote. Reply: port, fds [pending, peer pending].</summary>
        EventBindUnbound = 4,

        /// <summary>domain = remote, arg = remote port. Reply: port, fds [pending, peer pending].</summary>
        EventBindInterdomain = 5,

        /// <summary>arg = local port.</summary>
        EventUnbind = 6,

        /// <summary>
        /// domain = granter (<see cref="DomidSelf"/> for our own grant), refs[0] = a page we
        /// hold writable, arg = a byte offset in it: clear that byte when our mapping goes.
        /// </summary>
        UnmapNotify = 7,

        /// <summary>domain = granter, refs[0]: we unmapped that page; its notification fires now.</summary>
        Unmapped = 8,

        /// <summary>Reply: port = how many pages a domain may have granted at once (gntalloc's <c>limit</c>).</summary>
        GrantLimit = 9,
    }

    public static int WriteRequest(Span<byte> buffer, Op op, uint domain, uint arg, uint flags, ReadOnlySpan<uint> refs)
    {
        if (refs.Length > MaxRefs)
        {
            throw new ArgumentOutOfRangeException(nameof(refs), $"at most {MaxRefs} grant references per request");
        }

        BinaryPrimitives.WriteUInt32LittleEndian(buffer, (uint)op);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer[4..], domain);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer[8..], arg);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer[12..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer[16..], (uint)refs.Length);
        for (int i = 0; i < refs.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(buffer[(RequestHeaderSize + 4 * i)..], refs[i]);
        }

        return RequestHeaderSize + 4 * refs.Length;
    }

    public static int WriteReply(Span<byte> buffer, int errno, uint port, ulong offset, ReadOnlySpan<uint> refs)
    {
        BinaryPrimitives.WriteInt32LittleEndian(buffer, errno);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer[4..], port);
        BinaryPrimitives.WriteUInt64LittleEndian(buffer[8..], offset);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer[16..], (uint)refs.Length);
        for (int i = 0; i < refs.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(buffer[(ReplyHeaderSize + 4 * i)..], refs[i]);
        }

        return ReplyHeaderSize + 4 * refs.Length;
    }

    /// <summary>Parses a request from a domain; false if it is malformed (the caller answers EINVAL).</summary>
    public static bool TryReadRequest(ReadOnlySpan<byte> message, out Op op, out uint domain, out uint arg, out uint flags, Span<uint> refs, out int refCount)
    {
        op = default;
        domain = arg = flags = 0;
        refCount = 0;
        if (message.Length < RequestHeaderSize)
        {
            return false;
        }

        op = (Op)BinaryPrimitives.ReadUInt32LittleEndian(message);
        domain = BinaryPrimitives.ReadUInt32LittleEndian(message[4..]);
        arg = BinaryPrimitives.ReadUInt32LittleEndian(message[8..]);
        flags = BinaryPrimitives.ReadUInt32LittleEndian(message[12..]);
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(message[16..]);
        if (count > (uint)refs.Length || message.Length != RequestHeaderSize + 4 * (int)count)
        {
            return false;
        }

        refCount = (int)count;
        for (int i = 0; i < refCount; i++)
        {
            refs[i] = BinaryPrimitives.ReadUInt32LittleEndian(message[(RequestHeaderSize + 4 * i)..]);
        }

        return true;
    }

    public static bool TryReadReply(ReadOnlySpan<byte> message, out int errno, out uint port, out ulong offset, Span<uint> refs, out int refCount)
    {
        errno = 0;
        port = 0;
        offset = 0;
        refCount = 0;
        if (message.Length < ReplyHeaderSize)
        {
            return false;
        }

        errno = BinaryPrimitives.ReadInt32LittleEndian(message);
        port = BinaryPrimitives.ReadUInt32LittleEndian(message[4..]);
        offset = BinaryPrimitives.ReadUInt64LittleEndian(message[8..]);
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(message[16..]);
        if (count > (uint)refs.Length || message.Length != ReplyHeaderSize + 4 * (int)count)
        {
            return false;
        }

        refCount = (int)count;
        for (int i = 0; i < refCount; i++)
        {
            refs[i] = BinaryPrimitives.ReadUInt32LittleEndian(message[(ReplyHeaderSize + 4 * i)..]);
        }

        return true;
    }
}
