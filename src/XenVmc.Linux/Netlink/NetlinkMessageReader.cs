using System.Runtime.InteropServices;
using XenVmc.Linux.Interop;

namespace XenVmc.Linux;

/// <summary>Walks the messages of one netlink datagram (NLMSG_OK / NLMSG_NEXT).</summary>
/// <remarks>A length that runs past the datagram is reported, not skipped: the socket stream is then unusable.</remarks>
internal ref struct NetlinkMessageReader
{
    private ReadOnlySpan<byte> _remaining;

    public NetlinkMessageReader(ReadOnlySpan<byte> datagram) => _remaining = datagram;

    public bool TryRead(out NetlinkMessage message)
    {
        int headerSize = Marshal.SizeOf<Libc.nlmsghdr>();
        if (_remaining.Length < headerSize)
        {
            message = default;
            return false;
        }

        var header = MemoryMarshal.Read<Libc.nlmsghdr>(_remaining);
        if (header.nlmsg_len < headerSize || header.nlmsg_len > _remaining.Length)
        {
            throw new InvalidDataException(
                $"netlink message length {header.nlmsg_len} outside [{headerSize}, {_remaining.Length}]");
        }

        int length = (int)header.nlmsg_len;
        message = new NetlinkMessage(header, _remaining[headerSize..length]);
        int next = Libc.NLMSG_ALIGN(length);
        _remaining = next >= _remaining.Length ? default : _remaining[next..];
        return true;
    }
}
