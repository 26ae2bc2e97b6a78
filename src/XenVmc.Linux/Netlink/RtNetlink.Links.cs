using System.Runtime.InteropServices;
using XenVmc.Linux.Interop;

namespace XenVmc.Linux;

public sealed partial class RtNetlink
{
    /// <summary>"ip link set dev #IFINDEX up|down": changes only IFF_UP (ifi_change masks the rest).</summary>
    public void SetLinkUp(int ifIndex, bool up)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ifIndex);
        var header = new Libc.ifinfomsg
        {
            ifi_index = ifIndex,
            ifi_flags = up ? Libc.IFF_UP : 0,
            ifi_change = Libc.IFF_UP,
        };
        SetLink(header, mtu: null, up ? "set up link" : "set down link");
    }

    /// <summary>"ip link set dev #IFINDEX mtu N".</summary>
    public void SetMtu(int ifIndex, int mtu)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ifIndex);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(mtu);
        SetLink(new Libc.ifinfomsg { ifi_index = ifIndex }, (uint)mtu, $"set MTU {mtu} on link");
    }

    /// <summary>IFLA_STATS64 of the interface named <paramref name="name"/>.</summary>
    public LinkStatistics GetLinkStatistics(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return GetLinkStatistics(new Libc.ifinfomsg(), name, $"'{name}'");
    }

    /// <summary>IFLA_STATS64 of the interface with index <paramref name="ifIndex"/>.</summary>
    public LinkStatistics GetLinkStatistics(int ifIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ifIndex);
        return GetLinkStatistics(new Libc.ifinfomsg { ifi_index = ifIndex }, name: null, $"link #{ifIndex}");
    }

    private void SetLink(in Libc.ifinfomsg header, uint? mtu, string operation)
    {
        lock (_lock)
        {
            Span<byte> buffer = stackalloc byte[RequestBufferSize];
            var request = new NetlinkRequestWriter(buffer, Libc.RTM_NEWLINK, Libc.NLM_F_REQUEST | Libc.NLM_F_ACK, NextSequence());
            request.Append(in header);
            if (mtu is not null)
            {
                request.AppendAttribute(Libc.IFLA_MTU, mtu.Value);
            }

            Execute(request.Finish(), operation, $"#{header.ifi_index}");
        }
    }

    private LinkStatistics GetLinkStatistics(in Libc.ifinfomsg header, string? name, string objectName)
    {
        LinkStatistics? statistics = null;

        void OnReply(in NetlinkMessage message)
        {
            if (message.Type != Libc.RTM_NEWLINK)
            {
                return;
            }

            NetlinkAttributeReader attributes = message.Attributes<Libc.ifinfomsg>();
            while (attributes.TryRead(out ushort type, out ReadOnlySpan<byte> value))
            {
                if (type == Libc.IFLA_STATS64)
                {
                    if (value.Length < Marshal.SizeOf<Libc.rtnl_link_stats64>())
                    {
                        throw new InvalidDataException($"IFLA_STATS64 of {objectName}: {value.Length} bytes");
                    }

                    var s = MemoryMarshal.Read<Libc.rtnl_link_stats64>(value);
                    statistics = new LinkStatistics(s.rx_packets, s.tx_packets, s.rx_bytes, s.tx_bytes, s.rx_dropped, s.tx_dropped);
                }
            }
        }

        lock (_lock)
        {
            Span<byte> buffer = stackalloc byte[RequestBufferSize];
            var request = new NetlinkRequestWriter(buffer, Libc.RTM_GETLINK, Libc.NLM_F_REQUEST | Libc.NLM_F_ACK, NextSequence());
            request.Append(in header);
            if (name is not null)
            {
                request.AppendAttribute(Libc.IFLA_IFNAME, name);
            }

            Execute(request.Finish(), "get statistics of link", objectName, OnReply);
        }

        return statistics ?? throw new InvalidDataException($"the kernel sent no IFLA_STATS64 for {objectName}");
    }
}
