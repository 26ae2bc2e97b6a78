using System.Globalization;
using System.Net;
using System.Net.Sockets;
using XenVmc.Platform.Layout;

namespace XenVmc.Platform.Firewall;

/// <summary>
/// The part of an nftables rule set (<c>nft -j list ruleset</c>) that decides whether a rule can
/// concern some traffic: chains with their hooks and policies, rules as lists of expressions, and
/// named sets. Anything the parser does not understand is kept as "unknown" so that readers can
/// treat it conservatively (an unknown match may match, an unknown statement may drop).
/// </summary>
public sealed record NftRuleset(IReadOnlyList<NftChain> Chains, IReadOnlyList<NftSet> Sets)
{
    public static NftRuleset Empty { get; } = new([], []);

    public NftChain? FindChain(string family, string table, string name) =>
        Chains.FirstOrDefault(c => c.Family == family && c.Table == table && c.Name == name);

    public NftSet? FindSet(string family, string table, string name) =>
        Sets.FirstOrDefault(s => s.Family == family && s.Table == table && s.Name == name);

    public IEnumerable<NftRule> Rules => Chains.SelectMany(c => c.Rules);
}

/// <summary>A chain; <see cref="Hook"/> is set for a base chain (one the kernel calls), null for a jump target.</summary>
public sealed record NftChain(string Family, string Table, string Name, string? Hook, string? Policy, IReadOnlyList<string> Devices, IReadOnlyList<NftRule> Rules)
{
    public bool IsBase => Hook is not null;

    public string Label => $"{Family} {Table} {Name}";
}

public sealed record NftRule(string Family, string Table, string Chain, long Handle, IReadOnlyList<NftExpr> Expressions)
{
    /// <summary>The rule as a log line can name it: where it is and what it says, in nft's own words where we know them.</summary>
    public string Text => string.Create(CultureInfo.InvariantCulture, $"{Family} {Table} {Chain} handle {Handle}: {string.Join(' ', Expressions.Select(e => e.Text))}");
}

/// <summary>A named set. <see cref="Elements"/> is null when its contents cannot be known from the listing (a dynamic set, a map, concatenations).</summary>
public sealed record NftSet(string Family, string Table, string Name, IReadOnlyList<NftItem>? Elements);

public abstract record NftExpr
{
    public abstract string Text { get; }
}

/// <summary><c>left op right</c>, e.g. <c>ip daddr == 198.18.0.2</c>.</summary>
public sealed record NftMatch(NftOperand Left, string Op, NftValue Right) : NftExpr
{
    public override string Text => Op is "==" or "in" ? $"{Left.Text} {Right.Text}" : $"{Left.Text} {Op} {Right.Text}";
}

/// <summary>accept, drop, reject, queue, jump, goto, return, continue.</summary>
public sealed record NftVerdict(string Kind, string? Target) : NftExpr
{
    public override string Text => Target is null ? Kind : $"{Kind} {Target}";

    public bool Filters => Kind is "drop" or "reject" or "queue";
}

/// <summary>Any other statement: counter, log, limit, nat, mangle… or one this parser does not know.</summary>
public sealed record NftStatement(string Kind) : NftExpr
{
    /// <summary>Statements that neither change a packet nor decide its fate (limit and quota only gate what follows).</summary>
    public static readonly IReadOnlySet<string> Harmless = new HashSet<string>(StringComparer.Ordinal) { "counter", "log", "limit", "quota", "notrack", "ct count" };

    public override string Text => Kind;

    public bool IsHarmless => Harmless.Contains(Kind);
}

/// <summary>What a match looks at: <c>payload</c> (protocol + field), <c>meta</c>, <c>ct</c> (key) or something else (<see cref="Kind"/> other).</summary>
public sealed record NftOperand(string Kind, string? Protocol, string Key)
{
    public static NftOperand Other(string what) => new("other", null, what);

    public override string ToString() => Text;

    public string Text => Kind switch
    {
        "payload" => $"{Protocol} {Key}",
        "meta" => Key,
        "ct" => "ct " + Key,
        _ => Key,
    };

    public bool Is(string kind, string? protocol, string key) => Kind == kind && Protocol == protocol && Key == key;
}

/// <summary>The right side of a match: literal items, a named set (<c>@name</c>), or unknown (null items, no set).</summary>
public sealed record NftValue(IReadOnlyList<NftItem>? Items, string? SetName = null)
{
    public static NftValue Unknown { get; } = new(Items: null);

    public string Text => SetName is not null ? "@" + SetName
        : Items is null ? "<unknown>"
        : Items.Count == 1 ? Items[0].Text
        : "{ " + string.Join(", ", Items.Select(i => i.Text)) + " }";
}

/// <summary>One value: a literal (<see cref="Value"/>), a prefix (<see cref="PrefixLength"/> ≥ 0) or a range up to <see cref="RangeEnd"/>.</summary>
public sealed record NftItem(string Value, int PrefixLength = -1, string? RangeEnd = null)
{
    public string Text => PrefixLength >= 0 ? $"{Value}/{PrefixLength}" : RangeEnd is not null ? $"{Value}-{RangeEnd}" : Value;

    /// <summary>Whether <paramref name="address"/> is this item; an item that is not an address of its family never contains it.</summary>
    public bool Contains(IPAddress address) => Covers(IpPrefix.Host(address));

    /// <summary>Whether some address of <paramref name="network"/> is in this item.</summary>
    public bool Overlaps(IpPrefix network)
    {
        var (first, last) = Bounds(network.Address.GetAddressBytes(), network.Length);
        return TryRange(network.Family, out byte[] from, out byte[] to) && Compare(from, last) <= 0 && Compare(first, to) <= 0;
    }

    /// <summary>Whether every address of <paramref name="network"/> is in this item.</summary>
    public bool Covers(IpPrefix network)
    {
        var (first, last) = Bounds(network.Address.GetAddressBytes(), network.Length);
        return TryRange(network.Family, out byte[] from, out byte[] to) && Compare(from, first) <= 0 && Compare(last, to) <= 0;
    }

    /// <summary>Whether the interface <paramref name="name"/> is this item (nft's trailing <c>*</c> is a prefix wildcard).</summary>
    public bool MatchesName(string name) =>
        Value.EndsWith('*') ? name.StartsWith(Value[..^1], StringComparison.Ordinal) : Value == name;

    /// <summary>The addresses this item stands for, first to last inclusive; false when it is not an address of <paramref name="family"/>.</summary>
    private bool TryRange(AddressFamily family, out byte[] first, out byte[] last)
    {
        first = last = [];
        if (!IPAddress.TryParse(Value, out var start) || start.AddressFamily != family)
        {
            return false;
        }

        if (PrefixLength >= 0)
        {
            if (PrefixLength > IpPrefix.MaxLength(family))
            {
                return false;
            }

            (first, last) = Bounds(start.GetAddressBytes(), PrefixLength);
            return true;
        }

        if (RangeEnd is not null)
        {
            if (!IPAddress.TryParse(RangeEnd, out var end) || end.AddressFamily != family)
            {
                return false;
            }

            (first, last) = (start.GetAddressBytes(), end.GetAddressBytes());
            return true;
        }

        first = last = start.GetAddressBytes();
        return true;
    }

    private static (byte[] First, byte[] Last) Bounds(byte[] address, int length)
    {
        byte[] first = [.. address], last = [.. address];
        for (int i = 0; i < address.Length; i++)
        {
            int keep = Math.Clamp(length - (i * 8), 0, 8);
            byte mask = (byte)(0xFF << (8 - keep));
            first[i] &= mask;
            last[i] |= (byte)~mask;
        }

        return (first, last);
    }

    private static int Compare(byte[] a, byte[] b) => a.AsSpan().SequenceCompareTo(b);
}
