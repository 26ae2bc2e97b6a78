using System.Net;
using System.Net.Sockets;
using XenVmc.Linux;

namespace XenVmc.Guest.DataPath;

/// <summary>
/// Host routes to peers through the TUN, tagged with our routing-protocol number so a restarted
/// daemon can find and flush the ones it left behind (<c>ip route show proto 86</c>).
/// </summary>
internal sealed class RouteManager : IDisposable
{
    private readonly RtNetlink _netlink;
    private readonly Lock _lock = new();
    private readonly int _ifIndex;
    private readonly byte _protocol;
    private IReadOnlyList<(int IfIndex, IPAddress Address, int PrefixLength)> _own = [];

    public RouteManager(RtNetlink netlink, int ifIndex, byte protocol)
    {
        _netlink = netlink;
        _ifIndex = ifIndex;
        _protocol = protocol;
    }

    public int Flush()
    {
        lock (_lock)
        {
            return _netlink.FlushRoutes(_protocol);
        }
    }

    /// <summary>Our own addresses, on every interface but the TUN: the sources our routes name.</summary>
    public IReadOnlyList<IPAddress> RefreshOwnAddresses()
    {
        lock (_lock)
        {
            _own = [.. _netlink.ListAddresses().Where(a => a.IfIndex != _ifIndex && !IPAddress.IsLoopback(a.Address) && !a.Address.IsIPv6LinkLocal)];
            return [.. _own.Select(a => a.Address)];
        }
    }

    public void Install(IEnumerable<IPAddress> peerAddresses)
    {
        lock (_lock)
        {
            foreach (var address in peerAddresses)
            {
                int prefix = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
                _netlink.ReplaceRoute(new RouteSpec(address, prefix, _ifIndex, SourceFor(address), _protocol));
            }
        }
    }

    public void Remove(IEnumerable<IPAddress> peerAddresses)
    {
        lock (_lock)
        {
            foreach (var address in peerAddresses)
            {
                int prefix = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
                try
                {
                    _netlink.DeleteRoute(new RouteSpec(address, prefix, _ifIndex, null, _protocol));
                }
                catch (LinuxException)
                {
                    // The TUN may already be gone (daemon shutdown): its routes went with it.
                }
            }
        }
    }

    /// <summary>The own address on the peer's subnet, else the first of its family, else none.</summary>
    private IPAddress? SourceFor(IPAddress peer)
    {
        IPAddress? fallback = null;
        foreach (var (_, address, prefix) in _own)
        {
            if (address.AddressFamily != peer.AddressFamily)
            {
                continue;
            }

            fallback ??= address;
            if (SameNetwork(address, peer, prefix))
            {
                return address;
            }
        }

        return fallback;
    }

    private static bool SameNetwork(IPAddress a, IPAddress b, int prefix)
    {
        byte[] x = a.GetAddressBytes(), y = b.GetAddressBytes();
        for (int bit = 0; bit < prefix; bit++)
        {
            int mask = 0x80 >> (bit & 7);
            if ((x[bit >> 3] & mask) != (y[bit >> 3] & mask))
            {
                return false;
            }
        }

        return true;
    }

    public void Dispose() => _netlink.Dispose();
}
