using System.Net.Sockets;
using System.Runtime.InteropServices;
using XenVmc.Linux.Interop;

namespace XenVmc.Linux;

/// <summary>Passing descriptors (SCM_RIGHTS) over connected AF_UNIX stream or seqpacket sockets.</summary>
/// <remarks>
/// The descriptors travel with the first byte of <c>data</c>, so at least one byte must be sent. Received
/// descriptors are opened close-on-exec (MSG_CMSG_CLOEXEC) and belong to the caller; any beyond what the caller
/// asked for are closed at once, so a misbehaving peer cannot make us leak descriptors.
/// </remarks>
public static class UnixFdPassing
{
    /// <summary>SCM_MAX_FD: the kernel's limit per message.</summary>
    public const int MaxFdsPerMessage = 253;

    /// <summary>socketpair(AF_UNIX, type | SOCK_CLOEXEC): two connected sockets, for example for a child process.</summary>
    public static unsafe (Socket First, Socket Second) CreatePair(SocketType type)
    {
        int* sv = stackalloc int[2];
        if (Libc.SocketPair(Libc.AF_UNIX, (int)type | Libc.SOCK_CLOEXEC, 0, sv) < 0)
        {
            throw LinuxException.FromLastError("create", $"AF_UNIX {type} socket pair");
        }

        return (new Socket(new SafeSocketHandle(sv[0], ownsHandle: true)), new Socket(new SafeSocketHandle(sv[1], ownsHandle: true)));
    }

    /// <summary>Sends <paramref name="data"/> with <paramref name="fds"/> attached to its first byte.</summary>
    public static unsafe void Send(Socket socket, ReadOnlySpan<byte> data, ReadOnlySpan<SafeFileDescriptor> fds)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (data.IsEmpty)
        {
            throw new ArgumentException("descriptors need at least one byte of data to travel with", nameof(data));
        }

        ArgumentOutOfRangeException.ThrowIfGreaterThan(fds.Length, MaxFdsPerMessage, nameof(fds));
        int controlLength = fds.IsEmpty ? 0 : Libc.CMSG_SPACE(fds.Length * sizeof(int));
        ulong* controlWords = stackalloc ulong[Math.Max(controlLength / sizeof(ulong), 1)]; // cmsghdr alignment
        byte* control = (byte*)controlWords;
        int referenced = 0;
        try
        {
            if (controlLength > 0)
            {
                new Span<byte>(control, controlLength).Clear();
                var header = (Libc.cmsghdr*)control;
                header->cmsg_len = (nuint)Libc.CMSG_LEN(fds.Length * sizeof(int));
                header->cmsg_level = Libc.SOL_SOCKET;
                header->cmsg_type = Libc.SCM_RIGHTS;
                int* numbers = (int*)(control + Libc.CMSG_LEN(0));
                for (; referenced < fds.Length; referenced++)
                {
                    bool added = false;
                    fds[referenced].DangerousAddRef(ref added);
                    numbers[referenced] = fds[referenced].DangerousFd;
                }
            }

            // The descriptors go with the first sendmsg; a stream socket may take only part of the data, and the
            // rest follows without them.
            int sent = 0;
            fixed (byte* p = data)
            {
                while (sent < data.Length)
                {
                    var iov = new Libc.iovec { iov_base = p + sent, iov_len = (nuint)(data.Length - sent) };
                    bool first = sent == 0;
                    var message = new Libc.msghdr
                    {
                        msg_iov = &iov,
                        msg_iovlen = 1,
                        msg_control = first && controlLength > 0 ? control : null,
                        msg_controllen = first ? (nuint)controlLength : 0,
                    };
                    nint n = Libc.SendMsg(socket.SafeHandle, &message, Libc.MSG_NOSIGNAL | Libc.MSG_DONTWAIT);
                    if (n < 0)
                    {
                        WaitAfterFailure(socket, SelectMode.SelectWrite, "send descriptors over");
                        continue;
                    }

                    sent += (int)n;
                }
            }
        }
        finally
        {
            for (int i = 0; i < referenced; i++)
            {
                fds[i].DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Receives data and up to <paramref name="maxFds"/> descriptors, which are appended to <paramref name="fds"/>.
    /// </summary>
    /// <returns>The number of data bytes; 0 when the peer closed the connection.</returns>
    /// <exception cref="LinuxException">EMSGSIZE when a seqpacket message did not fit in <paramref name="data"/>.</exception>
    public static unsafe int Receive(Socket socket, Span<byte> data, List<SafeFileDescriptor> fds, int maxFds = 8)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(fds);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxFds);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxFds, MaxFdsPerMessage);
        int controlLength = Libc.CMSG_SPACE(maxFds * sizeof(int));
        ulong* control = stackalloc ulong[(controlLength + sizeof(ulong) - 1) / sizeof(ulong)]; // cmsghdr alignment
        int received;
        Libc.msghdr message;
        fixed (byte* p = data)
        {
            var iov = new Libc.iovec { iov_base = p, iov_len = (nuint)data.Length };
            message = new Libc.msghdr
            {
                msg_iov = &iov,
                msg_iovlen = 1,
                msg_control = control,
                msg_controllen = (nuint)controlLength,
            };
            nint n;
            while ((n = Libc.RecvMsg(socket.SafeHandle, &message, Libc.MSG_CMSG_CLOEXEC | Libc.MSG_DONTWAIT)) < 0)
            {
                WaitAfterFailure(socket, SelectMode.SelectRead, "receive descriptors from");
            }

            received = (int)n;
        }

        int kept = TakeDescriptors(new ReadOnlySpan<byte>(control, (int)message.msg_controllen), fds, maxFds);
        if ((message.msg_flags & Libc.MSG_TRUNC) != 0)
        {
            for (int i = 0; i < kept; i++)
            {
                fds[^1].Dispose();
                fds.RemoveAt(fds.Count - 1);
            }

            throw new LinuxException(Errno.EMSGSIZE, $"receive into {data.Length} bytes from", "AF_UNIX socket");
        }

        return received;
    }

    /// <returns>How many descriptors were appended; the rest were closed.</returns>
    private static unsafe int TakeDescriptors(ReadOnlySpan<byte> control, List<SafeFileDescriptor> fds, int maxFds)
    {
        int kept = 0;
        int headerLength = Libc.CMSG_LEN(0);
        while (control.Length >= headerLength)
        {
            var header = MemoryMarshal.Read<Libc.cmsghdr>(control);
            if (header.cmsg_len < (nuint)headerLength || header.cmsg_len > (nuint)control.Length)
            {
                break;
            }

            if (header.cmsg_level == Libc.SOL_SOCKET && header.cmsg_type == Libc.SCM_RIGHTS)
            {
                ReadOnlySpan<int> numbers = MemoryMarshal.Cast<byte, int>(control[headerLength..(int)header.cmsg_len]);
                foreach (int fd in numbers)
                {
                    var handle = new SafeFileDescriptor(fd, ownsHandle: true);
                    if (kept < maxFds)
                    {
                        fds.Add(handle);
                        kept++;
                    }
                    else
                    {
                        handle.Dispose();
                    }
                }
            }

            int next = Libc.CMSG_ALIGN((int)header.cmsg_len);
            control = next >= control.Length ? default : control[next..];
        }

        return kept;
    }

    /// <summary>
    /// After a failed non-blocking sendmsg/recvmsg: returns when a retry makes sense (EINTR, or EAGAIN and the
    /// socket became ready), throws otherwise. The calls are always non-blocking because System.Net.Sockets may
    /// have switched the socket's own mode; the socket's send/receive timeout is honoured here.
    /// </summary>
    private static void WaitAfterFailure(Socket socket, SelectMode mode, string operation)
    {
        Errno errno = Libc.GetLastErrno();
        if (errno == Errno.EINTR)
        {
            return;
        }

        if (errno != Errno.EAGAIN)
        {
            throw new LinuxException(errno, operation, "AF_UNIX socket");
        }

        int timeout = mode == SelectMode.SelectRead ? socket.ReceiveTimeout : socket.SendTimeout;
        if (!socket.Poll(timeout > 0 ? TimeSpan.FromMilliseconds(timeout) : Timeout.InfiniteTimeSpan, mode))
        {
            throw new LinuxException(Errno.ETIMEDOUT, operation, "AF_UNIX socket");
        }
    }
}
