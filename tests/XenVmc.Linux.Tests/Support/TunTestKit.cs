using System.Buffers.Binary;
using System.Net;

namespace XenVmc.Linux.Tests;

/// <summary>TUN helpers for tests running inside <see cref="NetnsThread"/>.</summary>
internal static class TunTestKit
{
    /// <summary>Opens (creates) a TUN, sets it up and optionally gives it an address.</summary>
    public static TunDevice OpenUp(RtNetlink rtnl, string name, string? address = null, int prefixLength = 32, TunOpenOptions? options = null)
    {
        TunDevice tun = TunDevice.Open(name, options ?? new TunOpenOptions { NonBlocking = true });
        rtnl.SetLinkUp(tun.IfIndex, true);
        if (address is not null)
        {
            rtnl.AddAddress(tun.IfIndex, IPAddress.Parse(address), prefixLength);
        }

        return tun;
    }

    /// <summary>
    /// Reads packets until one (after the vnet header, if any) satisfies <paramref name="match"/>; others, such
    /// as IPv6 router solicitations the kernel sends on a fresh link, are skipped.
    /// </summary>
    /// <returns>The length of the matching packet in <paramref name="buffer"/>, including the vnet header.</returns>
    public static int ReadMatching(TunDevice tun, byte[] buffer, Func<ReadOnlySpan<byte>, bool> match, int timeoutMs = 5000)
    {
        long deadline = Environment.TickCount64 + timeoutMs;
        int header = tun.VnetHeader ? TunDevice.VirtioNetHeaderSize : 0;
        Span<short> revents = stackalloc short[1];
        while (true)
        {
            int remaining = (int)Math.Max(0, deadline - Environment.TickCount64);
            if (Poll.Wait([new PollEntry(tun.Handle, Poll.POLLIN)], revents, remaining) == 0)
            {
                throw new TimeoutException($"no matching packet on {tun.Name} within {timeoutMs} ms");
            }

            int n = tun.Read(buffer);
            if (n > header && match(buffer.AsSpan(header, n - header)))
            {
                return n;
            }
        }
    }

    /// <summary>True for an IPv4 UDP packet to destination:port. Allocates nothing.</summary>
    public static bool IsUdpTo(ReadOnlySpan<byte> packet, IPAddress destination, int port)
    {
        Span<byte> address = stackalloc byte[4];
        return packet.Length >= 28
            && packet[0] >> 4 == 4
            && packet[9] == 17
            && destination.TryWriteBytes(address, out int written) && written == 4
            && packet[16..20].SequenceEqual(address)
            && BinaryPrimitives.ReadUInt16BigEndian(packet[((packet[0] & 0xF) * 4 + 2)..]) == port;
    }
}
