using System.Net;
using System.Text.RegularExpressions;

namespace XenVmc.Platform.Layout;

/// <summary>
/// One co-resident peer as Dom0 lists it for a guest: <c>peers/&lt;domid&gt;/ip</c> (space-separated
/// addresses, the format of the vif backend's <c>ip</c> key) and <c>peers/&lt;domid&gt;/mac</c>.
/// </summary>
public sealed partial record PeerTableEntry(ushort Domid, IReadOnlyList<IPAddress> Addresses, string Mac)
{
    public const int MaxAddresses = 16;
    public const int MaxValueLength = 1024;

    public string AddressText => string.Join(' ', Addresses.Select(a => a.ToString()));

    /// <summary>Parses the <c>ip</c> value; the text may come from anywhere, so every part is checked.</summary>
    public static bool TryParseAddresses(string? text, out IReadOnlyList<IPAddress> addresses, out string? error)
    {
        addresses = [];
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "no addresses";
            return false;
        }

        if (text.Length > MaxValueLength)
        {
            error = $"address list is {text.Length} bytes, more than {MaxValueLength}";
            return false;
        }

        var list = new List<IPAddress>();
        foreach (string part in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            // xl accepts "a.b.c.d/prefix" in vif ip=; the route is to the host address either way.
            string host = part.Split('/')[0];
            bool looksRight = host.Contains(':') || DottedQuad().IsMatch(host);
            // IPAddress.TryParse also takes a zone ("fe80::1%eth0") and brackets; inet_pton and a
            // host route take neither, so only hex digits, colons and dots get that far.
            // An IPv6 address may end in a dotted quad; inet_pton holds that part to the IPv4 rules.
            if (host.Contains(':') && host.Contains('.'))
            {
                looksRight &= DottedQuad().IsMatch(host[(host.LastIndexOf(':') + 1)..]);
            }

            if (!looksRight || !host.All(c => char.IsAsciiHexDigit(c) || c is ':' or '.') ||
                !IPAddress.TryParse(host, out var address) || address.IsIPv4MappedToIPv6 ||
                IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.IsIPv6Multicast ||
                (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && address.GetAddressBytes()[0] >= 224))
            {
                error = $"'{part}' is not a unicast host address";
                return false;
            }

            if (!list.Contains(address))
            {
                list.Add(address);
            }

            if (list.Count > MaxAddresses)
            {
                error = $"more than {MaxAddresses} addresses";
                return false;
            }
        }

        addresses = list;
        error = null;
        return true;
    }

    public static bool IsValidMac(string? text) => text is not null && MacPattern().IsMatch(text);

    // IPAddress.TryParse takes "10" or "10.1" as IPv4 shorthands and "010" as octal; the Linux
    // tools (inet_pton) refuse both, so a XenStore address is four plain decimal octets.
    [GeneratedRegex(@"^(0|[1-9][0-9]{0,2})(\.(0|[1-9][0-9]{0,2})){3}\z", RegexOptions.CultureInvariant)]
    private static partial Regex DottedQuad();

    [GeneratedRegex(@"^[0-9a-f]{2}(:[0-9a-f]{2}){5}\z", RegexOptions.CultureInvariant)]
    private static partial Regex MacPattern();
}
