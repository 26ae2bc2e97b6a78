using System.Runtime.InteropServices;
using XenVmc.Linux.Interop;

namespace XenVmc.Linux;

/// <summary>One netlink message inside a received datagram: its header and the bytes after it.</summary>
internal readonly ref struct NetlinkMessage
{
    public NetlinkMessage(Libc.nlmsghdr header, ReadOnlySpan<byte> payload)
    {
        Header = header;
        Payload = payload;
    }

    public Libc.nlmsghdr Header { get; }

    public ushort Type => Header.nlmsg_type;

    public ushort Flags => Header.nlmsg_flags;

    public uint Sequence => Header.nlmsg_seq;

    /// <summary>The payload, starting with the family header (rtmsg, ifinfomsg, ...).</summary>
    public ReadOnlySpan<byte> Payload { get; }

    /// <summary>Reads the family header; a message too short for it is malformed.</summary>
    public T ReadHeader<T>()
        where T : unmanaged
    {
        if (Payload.Length < Marshal.SizeOf<T>())
        {
            throw new InvalidDataException($"netlink message type {Type}: {Payload.Length} bytes, shorter than {typeof(T).Name}");
        }

        return MemoryMarshal.Read<T>(Payload);
    }

    /// <summary>The attributes that follow a family header of type <typeparamref name="T"/>.</summary>
    public NetlinkAttributeReader Attributes<T>()
        where T : unmanaged
    {
        int start = Libc.NLMSG_ALIGN(Marshal.SizeOf<T>());
        return new NetlinkAttributeReader(start <= Payload.Length ? Payload[start..] : default);
    }
}
