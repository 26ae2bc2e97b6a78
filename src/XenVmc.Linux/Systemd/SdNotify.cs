using System.Text;
using XenVmc.Linux.Interop;

namespace XenVmc.Linux;

/// <summary>sd_notify(3) without libsystemd: one AF_UNIX datagram to $NOTIFY_SOCKET.</summary>
public static class SdNotify
{
    /// <summary>
    /// Sends <paramref name="state"/> ("READY=1", "STATUS=…\nWATCHDOG=1", …) to the service manager.
    /// </summary>
    /// <returns>False when $NOTIFY_SOCKET is unset (not supervised); true once sent.</returns>
    /// <exception cref="LinuxException">
    /// The datagram could not be sent; EAFNOSUPPORT for addresses other than '/' paths and '@' abstract names
    /// (vsock is not supported).
    /// </exception>
    public static bool Notify(string state) => Notify(state, Environment.GetEnvironmentVariable("NOTIFY_SOCKET"));

    /// <summary>Sends to <paramref name="notifySocket"/> ("/path" or "@abstract"); false when it is null or empty.</summary>
    public static unsafe bool Notify(string state, string? notifySocket)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (string.IsNullOrEmpty(notifySocket))
        {
            return false;
        }

        string objectName = $"NOTIFY_SOCKET '{notifySocket}'";
        var address = default(Libc.sockaddr_un);
        int addressLength = WriteAddress(ref address, notifySocket, objectName);

        using SafeFileDescriptor socket = SafeFileDescriptor.CheckOpened(
            Libc.Socket(Libc.AF_UNIX, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0), "open datagram socket for", objectName);
        byte[] payload = Encoding.UTF8.GetBytes(state);
        fixed (byte* p = payload)
        {
            while (Libc.SendTo(socket, p, payload.Length, Libc.MSG_NOSIGNAL, &address, (uint)addressLength) < 0)
            {
                Errno errno = Libc.GetLastErrno();
                if (errno != Errno.EINTR)
                {
                    throw new LinuxException(errno, "send notification to", objectName);
                }
            }
        }

        return true;
    }

    /// <returns>The address length: offsetof(sun_path) + path + NUL for '/', exactly + name for '@' (systemd's SOCKADDR_UN_LEN).</returns>
    private static unsafe int WriteAddress(ref Libc.sockaddr_un address, string notifySocket, string objectName)
    {
        const int PathOffset = sizeof(ushort);
        bool isAbstract = notifySocket[0] == '@';
        if (!isAbstract && notifySocket[0] != '/')
        {
            throw new LinuxException(Errno.EAFNOSUPPORT, "send notification to", objectName);
        }

        int nameLength = Encoding.UTF8.GetByteCount(notifySocket);
        int pathLength = isAbstract ? nameLength : nameLength + 1;
        if (pathLength > 108)
        {
            throw new LinuxException(Errno.ENAMETOOLONG, "send notification to", objectName);
        }

        address.sun_family = Libc.AF_UNIX;
        fixed (byte* p = address.sun_path)
        {
            var path = new Span<byte>(p, 108);
            Encoding.UTF8.GetBytes(notifySocket, path);
            if (isAbstract)
            {
                path[0] = 0;
            }
        }

        return PathOffset + pathLength;
    }
}
