using System.Buffers.Binary;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using XenVmc.Linux.Interop;

namespace XenVmc.Linux;

/// <summary>Walks rtattr/nlattr TLVs (RTA_OK / RTA_NEXT); the nested and byte-order flags are masked off the type.</summary>
internal ref struct NetlinkAttributeReader
{
    private const ushort TypeMask = 0x3FFF; // ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER)

    private ReadOnlySpan<byte> _remaining;

    public NetlinkAttributeReader(ReadOnlySpan<byte> attributes) => _remaining = attributes;

    public bool TryRead(out ushort type, out ReadOnlySpan<byte> value)
    {
        int headerSize = Marshal.SizeOf<Libc.rtattr>();
        if (_remaining.Length < headerSize)
        {
            type = 0;
            value = default;
            return false;
        }

        var attribute = MemoryMarshal.Read<Libc.rtattr>(_remaining);
        if (attribute.rta_len < headerSize || attribute.rta_len > _remaining.Length)
        {
            throw new InvalidDataException($"netlink attribute length {attribute.rta_len} outside [{headerSize}, {_remaining.Length}]");
        }

        type = (ushort)(attribute.rta_type & TypeMask);
        value = _remaining[headerSize..attribute.rta_len];
        int next = Libc.NLMSG_ALIGN(attribute.rta_len);
        _remaining = next >= _remaining.Length ? default : _remaining[next..];
        return true;
    }

    public static uint ReadUInt32(ReadOnlySpan<byte> value, ushort type) =>
        value.Length >= sizeof(uint)
            ? BinaryPrimitives.ReadUInt32LittleEndian(value)
            : throw new InvalidDataException($"netlink attribute {type}: {value.Length} bytes, expected 4");

    public static IPAddress ReadAddress(ReadOnlySpan<byte> value, ushort type) =>
        value.Length is 4 or 16
            ? new IPAddress(value)
            : throw new InvalidDataException($"netlink address attribute {type}: {value.Length} bytes, expected 4 or 16");

    public static string ReadString(ReadOnlySpan<byte> value)
    {
        int end = value.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? value : value[..end]);
    }
}
