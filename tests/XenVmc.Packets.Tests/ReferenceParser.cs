using XenVmc.Packets;

namespace XenVmc.Packets.Tests;

/// <summary>
/// A slow, deliberately plain second implementation of the parsing rules, written straight from
/// the RFCs and the data-path rules, to compare <see cref="PacketParser"/> against on random input.
/// </summary>
internal static class ReferenceParser
{
    internal readonly record struct Result(PacketDropReason Reason, int Version, byte Protocol, int TransportOffset, int Length, bool IsFragment, bool IsFirstFragment);

    public static Result Parse(byte[] p)
    {
        if (p.Length == 0)
        {
            return Fail(PacketDropReason.Truncated);
        }

        return (p[0] >> 4) switch
        {
            4 => ParseV4(p),
            6 => ParseV6(p),
            _ => Fail(PacketDropReason.BadVersion),
        };
    }

    private static Result ParseV4(byte[] p)
    {
        if (p.Length < 20)
        {
            return Fail(PacketDropReason.Truncated);
        }

        int ihl = (p[0] & 15) * 4;
        if (ihl < 20)
        {
            return Fail(PacketDropReason.BadHeaderLength);
        }

        if (ihl > p.Length)
        {
            return Fail(PacketDropReason.Truncated);
        }

        int total = (p[2] << 8) | p[3];
        if (total < ihl)
        {
            return Fail(PacketDropReason.BadTotalLength);
        }

        if (total > p.Length)
        {
            return Fail(PacketDropReason.Truncated);
        }

        // Options: walk type/length pairs until end-of-list or the end of the header.
        int at = 20;
        while (at < ihl && p[at] != 0)
        {
            if (p[at] == 1)
            {
                at += 1;
            }
            else if (at + 1 < ihl && p[at + 1] >= 2 && at + p[at + 1] <= ihl)
            {
                at += p[at + 1];
            }
            else
            {
                return Fail(PacketDropReason.BadHeaderLength);
            }
        }

        int fragmentField = (p[6] << 8) | p[7];
        int offset = fragmentField & 0x1FFF;
        bool more = (fragmentField & 0x2000) != 0;
        bool fragment = more || offset != 0;
        bool first = more && offset == 0;
        byte protocol = p[9];
        if (!fragment || first)
        {
            PacketDropReason transport = CheckTransport(p, protocol, ihl, total, IpProtocol.Icmp);
            if (transport != PacketDropReason.None)
            {
                return Fail(transport);
            }
        }

        return new Result(PacketDropReason.None, 4, protocol, ihl, total, fragment, first);
    }

    private static Result ParseV6(byte[] p)
    {
        if (p.Length < 40)
        {
            return Fail(PacketDropReason.Truncated);
        }

        int payload = (p[4] << 8) | p[5];
        byte next = p[6];
        if (payload == 0 && next == 0)
        {
            return Fail(PacketDropReason.TooLarge);
        }

        int length = 40 + payload;
        if (length > p.Length)
        {
            return Fail(PacketDropReason.Truncated);
        }

        int at = 40;
        int seen = 0;
        bool sawFragment = false, fragment = false, first = false;
        var extensionTypes = new HashSet<byte> { 0, 43, 44, 51, 60 };
        while (extensionTypes.Contains(next))
        {
            seen++;
            if (seen > 8 || (next == 0 && at != 40) || (next == 44 && sawFragment))
            {
                return Fail(PacketDropReason.BadExtensionChain);
            }

            int size;
            if (next == 44)
            {
                size = 8;
            }
            else if (at + 2 > length)
            {
                return Fail(PacketDropReason.BadExtensionChain);
            }
            else
            {
                size = next == 51 ? (p[at + 1] + 2) * 4 : (p[at + 1] + 1) * 8;
            }

            if (at + size > length)
            {
                return Fail(PacketDropReason.BadExtensionChain);
            }

            byte following = p[at];
            if (next == 44)
            {
                sawFragment = true;
                int field = (p[at + 2] << 8) | p[at + 3];
                int offset = field & 0xFFF8;
                bool more = (field & 1) != 0;
                fragment = more || offset != 0;
                first = more && offset == 0;
                if (offset != 0)
                {
                    return new Result(PacketDropReason.None, 6, following, at + 8, length, true, false);
                }
            }

            at += size;
            next = following;
        }

        if (!fragment || first)
        {
            PacketDropReason transport = CheckTransport(p, next, at, length, IpProtocol.IcmpV6);
            if (transport != PacketDropReason.None)
            {
                return Fail(transport);
            }
        }

        return new Result(PacketDropReason.None, 6, next, at, length, fragment, first);
    }

    private static PacketDropReason CheckTransport(byte[] p, byte protocol, int start, int end, byte icmp)
    {
        int room = end - start;
        bool fits = protocol switch
        {
            6 => room >= 20 && (p[start + 12] >> 4) >= 5 && (p[start + 12] >> 4) * 4 <= room,
            17 => room >= 8,
            _ when protocol == icmp => room >= 8,
            _ => true,
        };
        return fits ? PacketDropReason.None : PacketDropReason.BadTransportHeader;
    }

    private static Result Fail(PacketDropReason reason) => new(reason, 0, 0, 0, 0, false, false);
}
