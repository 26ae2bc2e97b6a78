using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using XenVmc.Linux.Interop;

namespace XenVmc.Linux;

/// <summary>Builds one netlink request (nlmsghdr, family header, attributes) in a caller-provided buffer.</summary>
/// <remarks>
/// Layout (include/uapi/linux/netlink.h), every part aligned to 4 bytes:
/// <code>
/// | nlmsghdr (16) | family header (rtmsg 12 / ifinfomsg 16 / ifaddrmsg 8) | rtattr (4) value pad | ... |
/// </code>
/// rta_len counts header + value without the padding; nlmsg_len counts the whole message.
/// </remarks>
internal ref struct NetlinkRequestWriter
{
    private readonly Span<byte> _buffer;
    private int _length;

    public NetlinkRequestWriter(Span<byte> buffer, ushort type, ushort flags, uint sequence)
    {
        _buffer = buffer;
        var header = new Libc.nlmsghdr { nlmsg_type = type, nlmsg_flags = flags, nlmsg_seq = sequence };
        Append(in header);
    }

    /// <summary>Appends the fixed family header (rtmsg, ifinfomsg, ifaddrmsg).</summary>
    public void Append<T>(in T header)
        where T : unmanaged
    {
        int size = Marshal.SizeOf<T>();
        MemoryMarshal.Write(Reserve(size), in header);
    }

    public void AppendAttribute(ushort type, scoped ReadOnlySpan<byte> value)
    {
        int length = Marshal.SizeOf<Libc.rtattr>() + value.Length;
        Span<byte> destination = Reserve(length);
        MemoryMarshal.Write(destination, new Libc.rtattr { rta_len = checked((ushort)length), rta_type = type });
        value.CopyTo(destination[Marshal.SizeOf<Libc.rtattr>()..]);
    }

    public void AppendAttribute(ushort type, uint value)
    {
        Span<byte> bytes = stackalloc byte[sizeof(uint)];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        AppendAttribute(type, bytes);
    }

    /// <summary>An address attribute: 4 or 16 bytes in network order.</summary>
    public void AppendAttribute(ushort type, IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out int written))
        {
            throw new UnreachableException();
        }

        AppendAttribute(type, bytes[..written]);
    }

    /// <summary>A NUL-terminated string attribute (IFLA_IFNAME).</summary>
    public void AppendAttribute(ushort type, string value)
    {
        Span<byte> bytes = stackalloc byte[Encoding.UTF8.GetByteCount(value) + 1];
        bytes.Clear();
        Encoding.UTF8.GetBytes(value, bytes);
        AppendAttribute(type, bytes);
    }

    /// <summary>Sets nlmsg_len and returns the finished message.</summary>
    public readonly ReadOnlySpan<byte> Finish()
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer, (uint)_length);
        return _buffer[.._length];
    }

    private Span<byte> Reserve(int size)
    {
        int start = Libc.NLMSG_ALIGN(_length);
        if (start + size > _buffer.Length)
        {
            throw new InvalidOperationException($"netlink request larger than its {_buffer.Length}-byte buffer");
        }

        _buffer[_length..(start + size)].Clear();
        _length = start + size;
        return _buffer.Slice(start, size);
    }
}
