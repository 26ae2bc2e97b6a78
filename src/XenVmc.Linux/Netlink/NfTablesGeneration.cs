using System.Buffers.Binary;
using System.Runtime.InteropServices;
using XenVmc.Linux.Interop;

namespace XenVmc.Linux;

/// <summary>
/// Reads nftables' rule-set generation (<c>NFT_MSG_GETGEN</c> over NETLINK_NETFILTER): a number the
/// kernel increments with every committed change of any table, chain, rule, set or element in the
/// network namespace. Equal numbers mean the rule set has not changed, so a reader can skip
/// listing it. One request and one reply per call, no process.
/// </summary>
/// <remarks>
/// Design: not thread-safe (one owner calls <see cref="Read"/>); each request carries a fresh
/// sequence number and replies with another one (leftovers) are skipped.
/// </remarks>
public sealed class NfTablesGeneration : IDisposable
{
    private const int NetlinkNetfilter = 12;
    private const ushort NfnlSubsysNftables = 10;
    private const ushort NftMsgNewGen = 15;
    private const ushort NftMsgGetGen = 16;
    private const ushort NftaGenId = 1;
    private const string Name = "nftables generation";

    private readonly SafeFileDescriptor _socket;
    private readonly byte[] _receiveBuffer = new byte[4096];
    private uint _sequence = (uint)Environment.TickCount;

    private NfTablesGeneration(SafeFileDescriptor socket) => _socket = socket;

    public static unsafe NfTablesGeneration Open()
    {
        SafeFileDescriptor socket = SafeFileDescriptor.CheckOpened(
            Libc.Socket(Libc.AF_NETLINK, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, NetlinkNetfilter), "open", "NETLINK_NETFILTER socket");
        var local = new Libc.sockaddr_nl { nl_family = Libc.AF_NETLINK };
        if (Libc.Bind(socket, &local, (uint)sizeof(Libc.sockaddr_nl)) < 0)
        {
            var e = LinuxException.FromLastError("bind", "NETLINK_NETFILTER socket");
            socket.Dispose();
            throw e;
        }

        return new NfTablesGeneration(socket);
    }

    /// <summary>The current generation; throws <see cref="LinuxException"/> when the kernel refuses (no nf_tables, no CAP_NET_ADMIN).</summary>
    public unsafe uint Read()
    {
        // nlmsghdr (16) + nfgenmsg (family AF_UNSPEC, version NFNETLINK_V0, res_id 0)
        Span<byte> request = stackalloc byte[20];
        request.Clear();
        uint sequence = ++_sequence;
        var header = new Libc.nlmsghdr
        {
            nlmsg_len = (uint)request.Length,
            nlmsg_type = (ushort)((NfnlSubsysNftables << 8) | NftMsgGetGen),
            nlmsg_flags = Libc.NLM_F_REQUEST,
            nlmsg_seq = sequence,
        };
        MemoryMarshal.Write(request, in header);
        var kernel = new Libc.sockaddr_nl { nl_family = Libc.AF_NETLINK };
        fixed (byte* p = request)
        {
            while (Libc.SendTo(_socket, p, request.Length, 0, &kernel, (uint)sizeof(Libc.sockaddr_nl)) < 0)
            {
                if (Libc.GetLastErrno() != Errno.EINTR)
                {
                    throw LinuxException.FromLastError("send GETGEN", Name);
                }
            }
        }

        while (true)
        {
            int length = Receive();
            var reader = new NetlinkMessageReader(_receiveBuffer.AsSpan(0, length));
            while (reader.TryRead(out var message))
            {
                if (message.Sequence != sequence)
                {
                    continue;
                }

                if (message.Type == Libc.NLMSG_ERROR)
                {
                    int error = MemoryMarshal.Read<int>(message.Payload);
                    throw new LinuxException(-error, "GETGEN", Name);
                }

                if ((message.Type & 0xFF) == NftMsgNewGen && ParseId(message.Payload) is { } id)
                {
                    return id;
                }

                throw new InvalidDataException($"{Name}: reply without NFTA_GEN_ID (type {message.Type}, {message.Payload.Length} bytes)");
            }
        }
    }

    /// <summary>NFTA_GEN_ID (big-endian u32) from a NEWGEN payload: nfgenmsg (4 bytes), then attributes.</summary>
    internal static uint? ParseId(ReadOnlySpan<byte> payload)
    {
        var attributes = payload.Length >= 4 ? payload[4..] : default;
        while (attributes.Length >= 4)
        {
            ushort len = MemoryMarshal.Read<ushort>(attributes);
            ushort type = (ushort)(MemoryMarshal.Read<ushort>(attributes[2..]) & 0x3FFF);
            if (len < 4 || len > attributes.Length)
            {
                return null;
            }

            if (type == NftaGenId && len >= 8)
            {
                return BinaryPrimitives.ReadUInt32BigEndian(attributes[4..8]);
            }

            int next = Libc.NLMSG_ALIGN(len);
            attributes = next >= attributes.Length ? default : attributes[next..];
        }

        return null;
    }

    private unsafe int Receive()
    {
        fixed (byte* p = _receiveBuffer)
        {
            while (true)
            {
                Libc.sockaddr_nl from;
                uint fromLength = (uint)sizeof(Libc.sockaddr_nl);
                nint n = Libc.RecvFrom(_socket, p, _receiveBuffer.Length, 0, &from, &fromLength);
                if (n < 0)
                {
                    if (Libc.GetLastErrno() == Errno.EINTR)
                    {
                        continue;
                    }

                    throw LinuxException.FromLastError("receive GETGEN reply", Name);
                }

                if (from.nl_pid == 0)
                {
                    return (int)n;
                }
            }
        }
    }

    public void Dispose() => _socket.Dispose();
}
