using System.Net.Sockets;

namespace XenVmc.Guest.Status;

/// <summary>The status socket's address, for the daemon that listens and the CLI that asks.</summary>
public static class StatusSocket
{
    /// <summary>'@name' is an abstract socket (one per network namespace), anything else a path.</summary>
    public static UnixDomainSocketEndPoint EndPoint(string name) =>
        new(name.StartsWith('@') ? "\0" + name[1..] : name);
}
