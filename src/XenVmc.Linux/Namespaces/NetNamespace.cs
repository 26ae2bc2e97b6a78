using XenVmc.Linux.Interop;

namespace XenVmc.Linux;

/// <summary>Network namespaces of the calling thread (unshare(2)/setns(2) with CLONE_NEWNET).</summary>
/// <remarks>
/// Linux keeps namespaces per thread: these calls move only the calling OS thread. Use a dedicated
/// <see cref="Thread"/>, never a thread-pool thread or code after an <c>await</c>, which may resume elsewhere.
/// Sockets, netlink sockets and TUN devices belong to the namespace their thread was in when they were opened.
/// A namespace lives while a thread is in it or a descriptor (namespace fd, socket, TUN) refers to it.
/// </remarks>
public static class NetNamespace
{
    /// <summary>Moves the calling thread into a new, empty network namespace (only "lo", down). Needs CAP_SYS_ADMIN.</summary>
    public static void UnshareCurrentThread()
    {
        if (Libc.Unshare(Libc.CLONE_NEWNET) < 0)
        {
            throw LinuxException.FromLastError("unshare network namespace of", $"thread {Libc.GetTid()}");
        }
    }

    /// <summary>Opens the calling thread's network namespace, to <see cref="Enter"/> it later from another thread.</summary>
    public static SafeFileDescriptor OpenCurrent() => Open(CurrentThreadPath);

    /// <summary>Opens a namespace file such as /run/netns/NAME or /proc/PID/ns/net.</summary>
    public static SafeFileDescriptor Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return SafeFileDescriptor.CheckOpened(Libc.Open(path, Libc.O_RDONLY | Libc.O_CLOEXEC, 0), "open network namespace", path);
    }

    /// <summary>Moves the calling thread into the network namespace <paramref name="nsFd"/> refers to.</summary>
    public static void Enter(SafeFileDescriptor nsFd)
    {
        ArgumentNullException.ThrowIfNull(nsFd);
        if (Libc.SetNs(nsFd, Libc.CLONE_NEWNET) < 0)
        {
            throw LinuxException.FromLastError("enter network namespace", nsFd.Description);
        }
    }

    /// <summary>/proc/PID/task/TID/ns/net of the calling thread, usable by other processes (nsenter --net=…).</summary>
    public static string CurrentThreadPath => $"/proc/{Environment.ProcessId}/task/{Libc.GetTid()}/ns/net";
}
