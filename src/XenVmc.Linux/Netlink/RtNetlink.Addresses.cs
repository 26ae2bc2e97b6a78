using System.Net;
using System.Net.Sockets;
using XenVmc.Linux.Interop;

namespace XenVmc.Linux;

public sealed partial class RtNetlink
{
    /// <summary>"ip addr add ADDRESS/PREFIX dev #IFINDEX" (scope global); EEXIST if already there.</summary>
    public void AddAddress(int ifIndex, IPAddress address, int prefixLength)
    {
        Errno errno = ModifyAddress(Libc.RTM_NEWADDR, Libc.NLM_F_CREATE | Libc.NLM_F_EXCL, ifIndex, address, prefixLength, out string? kernelMessage);
        if (errno != 0)
        {
            throw new LinuxException(errno, "add address", DescribeAddress(ifIndex, address, prefixLength), kernelMessage);
        }
    }

    /// <summary>"ip addr del".</summary>
    /// <returns>False when the interface had no such address.</returns>
    public bool DeleteAddress(int ifIndex, IPAddress address, int prefixLength)
    {
        Errno errno = ModifyAddress(Libc.RTM_DELADDR, 0, ifIndex, address, prefixLength, out string? kernelMessage);
        return errno switch
        {
            0 => true,
            Errno.EADDRNOTAVAIL or Errno.ESRCH or Errno.ENOENT => false,
            _ => throw new LinuxException(errno, "delete address", DescribeAddress(ifIndex, address, prefixLength), kernelMessage),
        };
    }

    /// <summary>Every IPv4 and IPv6 address of the namespace (IFA_LOCAL, or IFA_ADDRESS when there is no local one).</summary>
    public IReadOnlyList<(int IfIndex, IPAddress Address, int PrefixLength)> ListAddresses()
    {
        var addresses = new List<(int, IPAddress, int)>();
        foreach (byte family in (ReadOnlySpan<byte>)[Libc.AF_INET, Libc.AF_INET6])
        {
            var part = new List<(int, IPAddress, int)>();

            int Build(Span<byte> buffer, uint sequence)
            {
                var request = new NetlinkRequestWriter(buffer, Libc.RTM_GETADDR, Libc.NLM_F_REQUEST | Libc.NLM_F_DUMP, sequence);
                request.Append(new Libc.ifaddrmsg { ifa_family = family });
                return request.Finish().Length;
            }

            void OnReply(in NetlinkMessage message)
            {
                if (message.Type != Libc.RTM_NEWADDR)
                {
                    return;
                }

                var header = message.ReadHeader<Libc.ifaddrmsg>();
                IPAddress? local = null, address = null;
                NetlinkAttributeReader attributes = message.Attributes<Libc.ifaddrmsg>();
                while (attributes.TryRead(out ushort type, out ReadOnlySpan<byte> value))
                {
                    if (type == Libc.IFA_LOCAL)
                    {
                        local = NetlinkAttributeReader.ReadAddress(value, type);
                    }
                    else if (type == Libc.IFA_ADDRESS)
                    {
                        address = NetlinkAttributeReader.ReadAddress(value, type);
                    }
                }

                if ((local ?? address) is IPAddress result)
                {
                    part.Add(((int)header.ifa_index, result, header.ifa_prefixlen));
                }
            }

            lock (_lock)
            {
                Dump(Build, "list", family == Libc.AF_INET ? "IPv4 addresses" : "IPv6 addresses", OnReply, part.Clear);
            }

            addresses.AddRange(part);
        }

        return addresses;
    }

    private static string DescribeAddress(int ifIndex, IPAddress address, int prefixLength) => $"{address}/{prefixLength} dev #{ifIndex}";

    private Errno ModifyAddress(ushort type, ushort flags, int ifIndex, IPAddress address, int prefixLength, out string? kernelMessage)
    {
        ArgumentNullException.ThrowIfNull(address);
        int maxPrefix = address.AddressFamily switch
        {
            AddressFamily.InterNetwork => 32,
            AddressFamily.InterNetworkV6 => 128,
            _ => throw new ArgumentException($"address {address} is neither IPv4 nor IPv6", nameof(address)),
        };
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, maxPrefix);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ifIndex);

        lock (_lock)
        {
            Span<byte> buffer = stackalloc byte[RequestBufferSize];
            int length = WriteAddressRequest(buffer, type, flags, NextSequence(), ifIndex, address, prefixLength);
            string operation = type == Libc.RTM_DELADDR ? "delete address" : "add address";
            return Transact(buffer[..length], operation, DescribeAddress(ifIndex, address, prefixLength), null, out kernelMessage, out _);
        }
    }

    /// <summary>An RTM_NEWADDR/RTM_DELADDR request as "ip addr add|del ADDRESS/PREFIX dev DEV" builds it.</summary>
    /// <returns>The request length.</returns>
    internal static int WriteAddressRequest(
        Span<byte> buffer, ushort type, ushort flags, uint sequence, int ifIndex, IPAddress address, int prefixLength)
    {
        var request = new NetlinkRequestWriter(buffer, type, (ushort)(Libc.NLM_F_REQUEST | Libc.NLM_F_ACK | flags), sequence);
        request.Append(new Libc.ifaddrmsg
        {
            ifa_family = (byte)(address.AddressFamily == AddressFamily.InterNetwork ? Libc.AF_INET : Libc.AF_INET6),
            ifa_prefixlen = (byte)prefixLength,
            ifa_index = (uint)ifIndex,
        });
        // Without a point-to-point peer, IFA_ADDRESS repeats the local address.
        request.AppendAttribute(Libc.IFA_LOCAL, address);
        request.AppendAttribute(Libc.IFA_ADDRESS, address);
        return request.Finish().Length;
    }
}
