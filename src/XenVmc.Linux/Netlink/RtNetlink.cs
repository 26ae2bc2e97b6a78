using System.Buffers.Binary;
using System.Runtime.InteropServices;
using XenVmc.Linux.Interop;

namespace XenVmc.Linux;

/// <summary>A NETLINK_ROUTE socket for routes, addresses and links of the calling thread's network namespace.</summary>
/// <remarks>
/// Design: one request at a time (a lock serialises callers). Every request carries a fresh nlmsg_seq and
/// NLM_F_ACK (dumps end with NLMSG_DONE instead); replies with another sequence number are leftovers of an
/// abandoned request and are skipped, as are datagrams not sent by the kernel (nl_pid ≠ 0). Kernel errors
/// become <see cref="LinuxException"/>s naming the route, address or link, with the extended-ACK text when
/// the kernel gives one. A dump interrupted by a concurrent change (NLM_F_DUMP_INTR) is restarted.
/// The socket stays in the network namespace it was opened in, whichever thread uses it later.
/// </remarks>
public sealed partial class RtNetlink : IDisposable
{
    private const int RequestBufferSize = 512;
    private const int ReceiveBufferSize = 64 * 1024;
    private const int MaxDumpAttempts = 8;

    private readonly SafeFileDescriptor _socket;
    private readonly byte[] _receiveBuffer = new byte[ReceiveBufferSize];
    private readonly Lock _lock = new();
    private uint _sequence;

    private RtNetlink(SafeFileDescriptor socket)
    {
        _socket = socket;
        _sequence = (uint)Environment.TickCount;
    }

    private delegate void ReplyHandler(in NetlinkMessage message);

    public static unsafe RtNetlink Open()
    {
        const string Name = "NETLINK_ROUTE socket";
        SafeFileDescriptor socket = SafeFileDescriptor.CheckOpened(
            Libc.Socket(Libc.AF_NETLINK, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, Libc.NETLINK_ROUTE), "open", Name);
        try
        {
            var local = new Libc.sockaddr_nl { nl_family = Libc.AF_NETLINK };
            if (Libc.Bind(socket, &local, (uint)sizeof(Libc.sockaddr_nl)) < 0)
            {
                throw LinuxException.FromLastError("bind", Name);
            }

            // Best effort, all three: error strings in ACKs, ACKs without a copy of the request, and
            // kernel-side filtering of dumps. Older kernels lack them and everything still works.
            int on = 1;
            Libc.SetSockOpt(socket, Libc.SOL_NETLINK, Libc.NETLINK_EXT_ACK, &on, sizeof(int));
            Libc.SetSockOpt(socket, Libc.SOL_NETLINK, Libc.NETLINK_CAP_ACK, &on, sizeof(int));
            Libc.SetSockOpt(socket, Libc.SOL_NETLINK, Libc.NETLINK_GET_STRICT_CHK, &on, sizeof(int));
            return new RtNetlink(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Dispose() => _socket.Dispose();

    private uint NextSequence() => ++_sequence;

    /// <summary>Sends a request and throws unless the kernel acknowledges it.</summary>
    private void Execute(ReadOnlySpan<byte> request, string operation, string objectName, ReplyHandler? onReply = null)
    {
        Errno errno = Transact(request, operation, objectName, onReply, out string? kernelMessage, out _);
        if (errno != 0)
        {
            throw new LinuxException(errno, operation, objectName, kernelMessage);
        }
    }

    /// <summary>Runs a dump request (built by <paramref name="build"/> for a given sequence number) to NLMSG_DONE.</summary>
    private void Dump(Func<Span<byte>, uint, int> build, string operation, string objectName, ReplyHandler onReply, Action reset)
    {
        Span<byte> buffer = stackalloc byte[RequestBufferSize];
        for (int attempt = 1; ; attempt++)
        {
            int length = build(buffer, NextSequence());
            Errno errno = Transact(buffer[..length], operation, objectName, onReply, out string? kernelMessage, out bool interrupted);
            if (errno != 0)
            {
                throw new LinuxException(errno, operation, objectName, kernelMessage);
            }

            if (!interrupted)
            {
                return;
            }

            if (attempt == MaxDumpAttempts)
            {
                throw new LinuxException(Errno.EINTR, $"{operation} (interrupted {attempt} times by concurrent changes)", objectName);
            }

            reset();
        }
    }

    /// <returns>0 on ACK or NLMSG_DONE, else the kernel's errno.</returns>
    private Errno Transact(
        ReadOnlySpan<byte> request, string operation, string objectName, ReplyHandler? onReply,
        out string? kernelMessage, out bool interrupted)
    {
        uint sequence = MemoryMarshal.Read<Libc.nlmsghdr>(request).nlmsg_seq;
        kernelMessage = null;
        interrupted = false;
        Send(request, operation, objectName);
        while (true)
        {
            var reader = new NetlinkMessageReader(_receiveBuffer.AsSpan(0, Receive(operation, objectName)));
            while (reader.TryRead(out NetlinkMessage message))
            {
                if (message.Sequence != sequence)
                {
                    continue;
                }

                interrupted |= (message.Flags & Libc.NLM_F_DUMP_INTR) != 0;
                switch (message.Type)
                {
                    case Libc.NLMSG_ERROR:
                        return ParseAck(message, out kernelMessage);
                    case Libc.NLMSG_DONE:
                        // A dump may end with a negative errno in place of its last part.
                        int error = message.Payload.Length >= sizeof(int) ? BinaryPrimitives.ReadInt32LittleEndian(message.Payload) : 0;
                        return error < 0 ? (Errno)(-error) : 0;
                    case Libc.NLMSG_NOOP:
                        break;
                    case Libc.NLMSG_OVERRUN:
                        throw new InvalidDataException($"{operation} {objectName}: netlink overrun");
                    default:
                        onReply?.Invoke(message);
                        break;
                }
            }
        }
    }

    /// <summary>An NLMSG_ERROR message: 0 for an ACK, else the errno and any extended-ACK text.</summary>
    internal static Errno ParseAck(in NetlinkMessage message, out string? kernelMessage)
    {
        kernelMessage = null;
        var ack = message.ReadHeader<Libc.nlmsgerr>();
        if (ack.error == 0)
        {
            return 0;
        }

        if ((message.Flags & Libc.NLM_F_ACK_TLVS) != 0)
        {
            // The TLVs follow the echoed request: only its header when capped, else the whole request.
            int echoed = (message.Flags & Libc.NLM_F_CAPPED) != 0
                ? Marshal.SizeOf<Libc.nlmsghdr>()
                : Libc.NLMSG_ALIGN((int)ack.msg.nlmsg_len);
            int start = sizeof(int) + echoed;
            if (start <= message.Payload.Length)
            {
                var attributes = new NetlinkAttributeReader(message.Payload[start..]);
                while (attributes.TryRead(out ushort type, out ReadOnlySpan<byte> value))
                {
                    if (type == Libc.NLMSGERR_ATTR_MSG)
                    {
                        kernelMessage = NetlinkAttributeReader.ReadString(value);
                    }
                }
            }
        }

        return (Errno)(-ack.error);
    }

    private unsafe void Send(ReadOnlySpan<byte> request, string operation, string objectName)
    {
        var kernel = new Libc.sockaddr_nl { nl_family = Libc.AF_NETLINK };
        fixed (byte* p = request)
        {
            while (Libc.SendTo(_socket, p, request.Length, 0, &kernel, (uint)sizeof(Libc.sockaddr_nl)) < 0)
            {
                Errno errno = Libc.GetLastErrno();
                if (errno != Errno.EINTR)
                {
                    throw new LinuxException(errno, $"{operation} (send request)", objectName);
                }
            }
        }
    }

    /// <returns>The length of the datagram now in the receive buffer.</returns>
    private unsafe int Receive(string operation, string objectName)
    {
        fixed (byte* p = _receiveBuffer)
        {
            while (true)
            {
                Libc.sockaddr_nl from;
                uint fromLength = (uint)sizeof(Libc.sockaddr_nl);
                // MSG_TRUNC: return the real datagram length, so that a cut reply is noticed.
                nint n = Libc.RecvFrom(_socket, p, _receiveBuffer.Length, Libc.MSG_TRUNC, &from, &fromLength);
                if (n < 0)
                {
                    Errno errno = Libc.GetLastErrno();
                    if (errno == Errno.EINTR)
                    {
                        continue;
                    }

                    throw new LinuxException(errno, $"{operation} (receive reply)", objectName);
                }

                if (n > _receiveBuffer.Length)
                {
                    throw new InvalidDataException($"{operation} {objectName}: netlink reply of {n} bytes exceeds {_receiveBuffer.Length}");
                }

                if (from.nl_pid == 0)
                {
                    return (int)n;
                }
            }
        }
    }
}
