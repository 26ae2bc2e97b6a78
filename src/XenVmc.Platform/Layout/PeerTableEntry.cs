using System.Net;
using System.Text.RegularExpressions;

namespace XenVmc.Platform.Layout;

/// <summary>
/// One co-resident peer as Dom0 lists it for a guest: <c>peers/&lt;domid&gt;/ip</c> (space-separated
/// host addresses and CIDR prefixes, the format of the vif backend's <c>ip</c> key, which xl's
/// <c>ip=</c> documents as "a list of IP networks") and <c>peers/&lt;domid&gt;/mac</c>. The same
/// text is the guest's own grant at <c>self/ip</c>.
/// </summary>
public sealed partial record PeerTableEntry(ushort Domid, IReadOnlyList<IpPrefix> Addresses, string Mac)
{
    public const int MaxAddresses = 16;
    public const int MaxValueLength = 1024;

    public string AddressText => string.Join(' ', Addresses.Select(a => a.ToString()));

    /// <summary>
    /// Parses the <c>ip</c> value; the text may come from anywhere, so every part is checked. A
    /// prefix must have its host bits zero (as <c>ip route add</c>, which Xen's vif-route runs on
    /// each part, demands): "198.18.0.1/24" is refused, never read as another network or a host.
    /// </summary>
    public static bool TryParseAddresses(string? text, out IReadOnlyList<IpPrefix> addresses, out string? error)
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

        var list = new List<IpPrefix>();
        foreach (string part in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            int slash = part.IndexOf('/');
            string host = slash < 0 ? part : part[..slash];
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

            if (!TryParseLength(part, slash, address, out var prefix, out error))
            {
                return false;
            }

            if (!list.Contains(prefix))
            {
                list.Add(prefix);
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

    private static bool TryParseLength(string part, int slash, IPAddress address, out IpPrefix prefix, out string? error)
    {
        prefix = default;
        int max = IpPrefix.MaxLength(address.AddressFamily);
        int length = max;
        if (slash >= 0)
        {
            string digits = part[(slash + 1)..];
            if (digits.Length is 0 or > 3 || !digits.All(char.IsAsciiDigit) || (digits.Length > 1 && digits[0] == '0') ||
                (length = int.Parse(digits, System.Globalization.CultureInfo.InvariantCulture)) > max)
            {
                error = $"'{part}' has no prefix length from 0 to {max}";
                return false;
            }
        }

        if (!IpPrefix.HostBitsZero(address, length))
        {
            error = $"'{part}' has host bits set: write the host ({address}) or its network";
            return false;
        }

        // A network must not reach into what no peer may own: the default route, loopback, multicast.
        byte[] first = address.GetAddressBytes();
        bool tooWide = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
            ? length < 8 || (first[0] == 127)
            : length < 8 || first[0] == 0xff;
        if (tooWide)
        {
            error = $"'{part}' is wider than a network Dom0 may grant (IPv4 /8 or longer, IPv6 /8 or longer, no loopback or multicast)";
            return false;
        }

        prefix = new IpPrefix(address, length);
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
