using System.Net;
using System.Net.Sockets;
using XenVmc.Linux.Interop;

namespace XenVmc.Linux;

public sealed partial class RtNetlink
{
    /// <summary>"ip route replace": adds the route or swaps the existing one with the same key (table, destination, metric).</summary>
    public void ReplaceRoute(RouteSpec route) =>
        ModifyRoute(Libc.RTM_NEWROUTE, Libc.NLM_F_CREATE | Libc.NLM_F_REPLACE, route, "replace route");

    /// <summary>"ip route add": fails with EEXIST when the key is taken.</summary>
    public void AddRoute(RouteSpec route) =>
        ModifyRoute(Libc.RTM_NEWROUTE, Libc.NLM_F_CREATE | Libc.NLM_F_EXCL, route, "add route");

    /// <summary>
    /// Deletes the unicast route matching destination/prefix, table, protocol and, where set, interface,
    /// source, gateway and metric.
    /// </summary>
    /// <returns>False when no such route existed (ESRCH/ENOENT).</returns>
    public bool DeleteRoute(RouteSpec route)
    {
        Errno errno = ModifyRouteCore(Libc.RTM_DELROUTE, 0, route, out string? kernelMessage);
        return errno switch
        {
            0 => true,
            Errno.ESRCH or Errno.ENOENT => false,
            _ => throw new LinuxException(errno, "delete route", route.ToString(), kernelMessage),
        };
    }

    /// <summary>Unicast routes of a table (main unless named; null: every table), optionally only those of a protocol and/or output interface.</summary>
    public IReadOnlyList<RouteSpec> ListRoutes(AddressFamily family, byte? protocol = null, int? ifIndex = null, uint? table = Libc.RT_TABLE_MAIN) =>
        DumpRoutes(family, table, protocol, ifIndex);

    /// <summary>"ip route flush proto N" over every table, IPv4 and IPv6: removes the routes a previous run left.</summary>
    /// <returns>How many routes were deleted.</returns>
    public int FlushRoutes(byte protocol)
    {
        // Protocol 0 would mean "any protocol" to the kernel's dump filter.
        ArgumentOutOfRangeException.ThrowIfZero(protocol);
        int deleted = 0;
        foreach (AddressFamily family in (ReadOnlySpan<AddressFamily>)[AddressFamily.InterNetwork, AddressFamily.InterNetworkV6])
        {
            foreach (RouteSpec route in DumpRoutes(family, table: null, protocol, ifIndex: null))
            {
                if (DeleteRoute(route))
                {
                    deleted++;
                }
            }
        }

        return deleted;
    }

    private void ModifyRoute(ushort type, ushort flags, RouteSpec route, string operation)
    {
        Errno errno = ModifyRouteCore(type, flags, route, out string? kernelMessage);
        if (errno != 0)
        {
            throw new LinuxException(errno, operation, route.ToString(), kernelMessage);
        }
    }

    private Errno ModifyRouteCore(ushort type, ushort flags, RouteSpec route, out string? kernelMessage)
    {
        ArgumentNullException.ThrowIfNull(route);
        route.Validate();
        lock (_lock)
        {
            Span<byte> buffer = stackalloc byte[RequestBufferSize];
            int length = WriteRouteRequest(buffer, type, flags, NextSequence(), route);
            string operation = type == Libc.RTM_DELROUTE ? "delete route" : "change route";
            return Transact(buffer[..length], operation, route.ToString(), null, out kernelMessage, out _);
        }
    }

    /// <summary>An RTM_NEWROUTE/RTM_DELROUTE request as "ip route replace|add|del" builds it.</summary>
    /// <returns>The request length.</returns>
    internal static int WriteRouteRequest(Span<byte> buffer, ushort type, ushort flags, uint sequence, RouteSpec route)
    {
        bool ipv4 = route.Family == AddressFamily.InterNetwork;
        var request = new NetlinkRequestWriter(buffer, type, (ushort)(Libc.NLM_F_REQUEST | Libc.NLM_F_ACK | flags), sequence);
        request.Append(new Libc.rtmsg
        {
            rtm_family = (byte)(ipv4 ? Libc.AF_INET : Libc.AF_INET6),
            rtm_dst_len = (byte)route.PrefixLength,
            // Tables from 256 on exist only as RTA_TABLE.
            rtm_table = route.Table < 256 ? (byte)route.Table : Libc.RT_TABLE_UNSPEC,
            rtm_protocol = route.Protocol,
            // As "ip route" does: delete matches any scope; IPv4 routes without a gateway are on-link.
            rtm_scope = type == Libc.RTM_DELROUTE ? Libc.RT_SCOPE_NOWHERE
                : ipv4 && route.Gateway is null ? Libc.RT_SCOPE_LINK : Libc.RT_SCOPE_UNIVERSE,
            rtm_type = Libc.RTN_UNICAST,
        });
        request.AppendAttribute(Libc.RTA_TABLE, route.Table);
        request.AppendAttribute(Libc.RTA_DST, route.Destination);
        if (route.OutputIfIndex != 0)
        {
            request.AppendAttribute(Libc.RTA_OIF, (uint)route.OutputIfIndex);
        }

        if (route.Gateway is not null)
        {
            request.AppendAttribute(Libc.RTA_GATEWAY, route.Gateway);
        }

        if (route.PreferredSource is not null)
        {
            request.AppendAttribute(Libc.RTA_PREFSRC, route.PreferredSource);
        }

        if (route.Metric != 0)
        {
            request.AppendAttribute(Libc.RTA_PRIORITY, route.Metric);
        }

        return request.Finish().Length;
    }

    /// <param name="table">null: every table.</param>
    private List<RouteSpec> DumpRoutes(AddressFamily family, uint? table, byte? protocol, int? ifIndex)
    {
        byte af = family switch
        {
            AddressFamily.InterNetwork => Libc.AF_INET,
            AddressFamily.InterNetworkV6 => Libc.AF_INET6,
            _ => throw new ArgumentException($"routes are IPv4 or IPv6, not {family}", nameof(family)),
        };

        var routes = new List<RouteSpec>();
        string objectName = $"{(af == Libc.AF_INET ? "IPv4" : "IPv6")} routes, table {table?.ToString() ?? "all"}"
            + (protocol is null ? "" : $", proto {protocol}") + (ifIndex is null ? "" : $", dev #{ifIndex}");

        // With NETLINK_GET_STRICT_CHK the kernel filters on table, protocol and RTA_OIF itself; the same filter
        // is applied again here for kernels without it.
        int Build(Span<byte> buffer, uint sequence)
        {
            var request = new NetlinkRequestWriter(buffer, Libc.RTM_GETROUTE, Libc.NLM_F_REQUEST | Libc.NLM_F_DUMP, sequence);
            request.Append(new Libc.rtmsg
            {
                rtm_family = af,
                rtm_table = table is < 256 ? (byte)table.Value : Libc.RT_TABLE_UNSPEC,
                rtm_protocol = protocol ?? 0,
            });
            if (table is not null)
            {
                request.AppendAttribute(Libc.RTA_TABLE, table.Value);
            }

            if (ifIndex is not null)
            {
                request.AppendAttribute(Libc.RTA_OIF, (uint)ifIndex.Value);
            }

            return request.Finish().Length;
        }

        void OnReply(in NetlinkMessage message)
        {
            if (message.Type == Libc.RTM_NEWROUTE
                && TryParseRoute(message, af, out RouteSpec? route)
                && (table is null || route.Table == table)
                && (protocol is null || route.Protocol == protocol)
                && (ifIndex is null || route.OutputIfIndex == ifIndex))
            {
                routes.Add(route);
            }
        }

        lock (_lock)
        {
            Dump(Build, "list", objectName, OnReply, routes.Clear);
        }

        return routes;
    }

    private static bool TryParseRoute(in NetlinkMessage message, byte family, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RouteSpec? route)
    {
        route = null;
        var header = message.ReadHeader<Libc.rtmsg>();
        if (header.rtm_family != family || header.rtm_type != Libc.RTN_UNICAST || (header.rtm_flags & Libc.RTM_F_CLONED) != 0)
        {
            return false;
        }

        IPAddress? destination = null, source = null, gateway = null;
        int ifIndex = 0;
        uint metric = 0, table = header.rtm_table;
        NetlinkAttributeReader attributes = message.Attributes<Libc.rtmsg>();
        while (attributes.TryRead(out ushort type, out ReadOnlySpan<byte> value))
        {
            switch (type)
            {
                case Libc.RTA_DST:
                    destination = NetlinkAttributeReader.ReadAddress(value, type);
                    break;
                case Libc.RTA_OIF:
                    ifIndex = (int)NetlinkAttributeReader.ReadUInt32(value, type);
                    break;
                case Libc.RTA_GATEWAY:
                    gateway = NetlinkAttributeReader.ReadAddress(value, type);
                    break;
                case Libc.RTA_PREFSRC:
                    source = NetlinkAttributeReader.ReadAddress(value, type);
                    break;
                case Libc.RTA_PRIORITY:
                    metric = NetlinkAttributeReader.ReadUInt32(value, type);
                    break;
                case Libc.RTA_TABLE:
                    table = NetlinkAttributeReader.ReadUInt32(value, type);
                    break;
            }
        }

        destination ??= family == Libc.AF_INET ? IPAddress.Any : IPAddress.IPv6Any;
        route = new RouteSpec(destination, header.rtm_dst_len, ifIndex, source, header.rtm_protocol, metric, table, gateway);
        return true;
    }
}
