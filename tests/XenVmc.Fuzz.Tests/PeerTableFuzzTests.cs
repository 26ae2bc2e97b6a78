using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using XenVmc.Platform.Layout;
using Xunit.Abstractions;

namespace XenVmc.Fuzz.Tests;

/// <summary>
/// The peer-table parsers on values a XenStore node can hold: the address list, the MAC and the
/// domain id. Nothing throws; an accepted list is short, free of duplicates, survives a round
/// trip through its text, and every address in it is one glibc's <c>inet_pton</c> (what the
/// Linux tools use) reads as the same bytes.
/// </summary>
public sealed partial class PeerTableFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public void AddressListMacAndDomid()
    {
        string[] seeds =
        [
            "198.18.0.2", "198.18.0.2 fd00:198:18::2", "10.0.0.1/24", "fe80::1", "::ffff:1.2.3.4", "64:ff9b::1.2.3.4",
            "0.0.0.0", "255.255.255.255", "127.0.0.1", "224.0.0.1", "1.2.3", "01.2.3.4", "[::1]", "fe80::1%eth0",
            "00:16:3e:00:00:02", "32767", "0", "65535", "DOMID", " 1.1.1.1  2.2.2.2 ",
        ];
        var loop = new FuzzLoop("peer-table", output, maxLength: 1100);
        loop.Run(seeds.Select(Encoding.Latin1.GetBytes), Execute);
        Assert.True(loop.Signatures > 10, $"only {loop.Signatures} behaviours");
    }

    internal static string Execute(byte[] input)
    {
        string text = Encoding.Latin1.GetString(input);
        var signature = new StringBuilder();
        if (PeerTableEntry.TryParseAddresses(text, out var addresses, out string? error))
        {
            if (addresses.Count is 0 or > PeerTableEntry.MaxAddresses || addresses.Distinct().Count() != addresses.Count)
            {
                throw new InvalidOperationException($"accepted {addresses.Count} addresses");
            }

            string[] parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            foreach (var (address, index) in addresses.Select((a, i) => (a, i)))
            {
                if (address.Family == AddressFamily.InterNetworkV6 && address.Address.ScopeId != 0)
                {
                    throw new InvalidOperationException($"accepted {address} with a scope id: no route can carry it");
                }

                if (!PeerTableEntry.TryParseAddresses(address.ToString(), out var again, out _) || !again[0].Equals(address))
                {
                    throw new InvalidOperationException($"{address} does not survive its own text");
                }

            }

            signature.Append(Math.Min(addresses.Count(a => a.Family == AddressFamily.InterNetwork), 3)).Append('+')
                .Append(Math.Min(addresses.Count(a => a.Family == AddressFamily.InterNetworkV6), 3)).Append(text.Contains('/') ? "/p" : "");

            foreach (string part in parts)
            {
                string host = part.Split('/')[0];
                var parsed = IPAddress.Parse(host);
                if (!InetPton(host, parsed.AddressFamily, out byte[] bytes) || !bytes.AsSpan().SequenceEqual(parsed.GetAddressBytes()))
                {
                    throw new InvalidOperationException($"accepted '{host}', which inet_pton reads differently or refuses");
                }
            }

            if (new PeerTableEntry(1, addresses, "").AddressText is var round && (!PeerTableEntry.TryParseAddresses(round, out var list, out _) || !list.SequenceEqual(addresses)))
            {
                throw new InvalidOperationException($"'{round}' does not parse back to the same list");
            }
        }
        else
        {
            // The reason without the quoted input: one behaviour per kind of refusal.
            signature.Append("refused:").Append(error is null ? "?" : error.StartsWith('\'') ? "not-unicast" : error.Split(' ')[^1]);
        }

        bool mac = PeerTableEntry.IsValidMac(text);
        bool domid = XenVmcPaths.TryParseDomid(text, out ushort id);
        if (domid && id.ToString(System.Globalization.CultureInfo.InvariantCulture) != text)
        {
            throw new InvalidOperationException($"domid '{text}' read as {id}: not its canonical text");
        }

        return $"{signature}/{mac}/{domid}";
    }

    private static bool InetPton(string text, AddressFamily family, out byte[] bytes)
    {
        bytes = new byte[family == AddressFamily.InterNetwork ? 4 : 16];
        return inet_pton(family == AddressFamily.InterNetwork ? 2 : 10, text, bytes) == 1;
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int inet_pton(int af, string src, byte[] dst);
}
