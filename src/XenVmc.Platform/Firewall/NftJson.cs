using System.Text.Json;

namespace XenVmc.Platform.Firewall;

/// <summary>
/// Reads <c>nft -j list ruleset</c> (libnftables' JSON schema 1) into an <see cref="NftRuleset"/>.
/// Odd input never throws past <see cref="Parse"/> except as <see cref="FormatException"/> for text
/// that is not the JSON document at all; inside it, every object of an unexpected shape becomes an
/// unknown match or statement, which the readers of the model treat as "may match" / "may drop".
/// </summary>
public static class NftJson
{
    public static NftRuleset Parse(string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            throw new FormatException($"nft's JSON does not parse: {e.Message}", e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object ||
                !document.RootElement.TryGetProperty("nftables", out var items) || items.ValueKind != JsonValueKind.Array)
            {
                throw new FormatException("nft's JSON has no \"nftables\" array");
            }

            var chains = new List<(string Family, string Table, string Name, string? Hook, string? Policy, List<string> Devices)>();
            var rules = new List<NftRule>();
            var sets = new List<NftSet>();
            foreach (var item in items.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                if (item.TryGetProperty("chain", out var chain) && chain.ValueKind == JsonValueKind.Object)
                {
                    chains.Add((Str(chain, "family"), Str(chain, "table"), Str(chain, "name"), OptStr(chain, "hook"), OptStr(chain, "policy"), Devices(chain)));
                }
                else if (item.TryGetProperty("rule", out var rule) && rule.ValueKind == JsonValueKind.Object)
                {
                    rules.Add(ReadRule(rule));
                }
                else if (item.TryGetProperty("set", out var set) && set.ValueKind == JsonValueKind.Object)
                {
                    sets.Add(new NftSet(Str(set, "family"), Str(set, "table"), Str(set, "name"), SetElements(set)));
                }
                else if (item.TryGetProperty("map", out var map) && map.ValueKind == JsonValueKind.Object)
                {
                    sets.Add(new NftSet(Str(map, "family"), Str(map, "table"), Str(map, "name"), null));
                }
            }

            return new NftRuleset(
                [.. chains.Select(c => new NftChain(c.Family, c.Table, c.Name, c.Hook, c.Policy, c.Devices,
                    [.. rules.Where(r => r.Family == c.Family && r.Table == c.Table && r.Chain == c.Name)]))],
                sets);
        }
    }

    private static NftRule ReadRule(JsonElement rule)
    {
        long handle = rule.TryGetProperty("handle", out var h) && h.ValueKind == JsonValueKind.Number && h.TryGetInt64(out long v) ? v : -1;
        var expressions = new List<NftExpr>();
        if (rule.TryGetProperty("expr", out var expr) && expr.ValueKind == JsonValueKind.Array)
        {
            expressions.AddRange(expr.EnumerateArray().Select(ReadExpression));
        }
        else
        {
            expressions.Add(new NftStatement("<no expressions>"));
        }

        return new NftRule(Str(rule, "family"), Str(rule, "table"), Str(rule, "chain"), handle, expressions);
    }

    private static NftExpr ReadExpression(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            return new NftStatement("<" + e.ValueKind.ToString().ToLowerInvariant() + ">");
        }

        using var properties = e.EnumerateObject();
        if (!properties.MoveNext())
        {
            return new NftStatement("<empty>");
        }

        var p = properties.Current;
        switch (p.Name)
        {
            case "match" when p.Value.ValueKind == JsonValueKind.Object:
                return new NftMatch(
                    p.Value.TryGetProperty("left", out var left) ? Operand(left) : NftOperand.Other("<none>"),
                    OptStr(p.Value, "op") ?? "==",
                    p.Value.TryGetProperty("right", out var right) ? Value(right) : NftValue.Unknown);
            case "accept" or "drop" or "reject" or "queue" or "return" or "continue":
                return new NftVerdict(p.Name, null);
            case "jump" or "goto":
                return new NftVerdict(p.Name, p.Value.ValueKind == JsonValueKind.Object ? OptStr(p.Value, "target") : null);
            case "xt" when p.Value.ValueKind == JsonValueKind.Object && OptStr(p.Value, "type") == "match":
                // An iptables-nft extension match (physdev, comment…): its condition is opaque, so it may match.
                return new NftMatch(NftOperand.Other("xt " + (OptStr(p.Value, "name") ?? "?")), "==", NftValue.Unknown);
            case "xt":
                return new NftStatement("xt " + (p.Value.ValueKind == JsonValueKind.Object ? OptStr(p.Value, "name") ?? "?" : "?"));
            case "ct" when p.Value.ValueKind == JsonValueKind.Object && OptStr(p.Value, "key") == "count":
                return new NftStatement("ct count");
            default:
                return new NftStatement(p.Name);
        }
    }

    private static NftOperand Operand(JsonElement left)
    {
        if (left.ValueKind == JsonValueKind.Object)
        {
            if (left.TryGetProperty("payload", out var payload) && payload.ValueKind == JsonValueKind.Object &&
                OptStr(payload, "protocol") is { } protocol && OptStr(payload, "field") is { } field)
            {
                return new NftOperand("payload", protocol, field);
            }

            if (left.TryGetProperty("meta", out var meta) && meta.ValueKind == JsonValueKind.Object && OptStr(meta, "key") is { } metaKey)
            {
                return new NftOperand("meta", null, metaKey);
            }

            if (left.TryGetProperty("ct", out var ct) && ct.ValueKind == JsonValueKind.Object && OptStr(ct, "key") is { } ctKey)
            {
                return new NftOperand("ct", null, ctKey);
            }

            using var properties = left.EnumerateObject();
            return NftOperand.Other(properties.MoveNext() ? properties.Current.Name : "<empty>");
        }

        return NftOperand.Other("<" + left.ValueKind.ToString().ToLowerInvariant() + ">");
    }

    private static NftValue Value(JsonElement right)
    {
        if (right.ValueKind == JsonValueKind.String && right.GetString() is { } text && text.StartsWith('@'))
        {
            return new NftValue(null, text[1..]);
        }

        if (right.ValueKind == JsonValueKind.Object && right.TryGetProperty("set", out var set) && set.ValueKind == JsonValueKind.Array)
        {
            return Items(set) is { } items ? new NftValue(items) : NftValue.Unknown;
        }

        return Item(right) is { } item ? new NftValue([item]) : NftValue.Unknown;
    }

    private static List<NftItem>? Items(JsonElement array)
    {
        var items = new List<NftItem>();
        foreach (var element in array.EnumerateArray())
        {
            if (Item(element) is not { } item)
            {
                return null;
            }

            items.Add(item);
        }

        return items;
    }

    /// <summary>One literal, prefix or range; null for anything else (a concatenation, a map element, an expression).</summary>
    private static NftItem? Item(JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.String:
                return new NftItem(e.GetString()!);
            case JsonValueKind.Number:
                return new NftItem(e.GetRawText());
            case JsonValueKind.Object:
                if (e.TryGetProperty("prefix", out var prefix) && prefix.ValueKind == JsonValueKind.Object &&
                    OptStr(prefix, "addr") is { } addr && prefix.TryGetProperty("len", out var len) && len.ValueKind == JsonValueKind.Number && len.TryGetInt32(out int length) && length >= 0)
                {
                    return new NftItem(addr, length);
                }

                if (e.TryGetProperty("range", out var range) && range.ValueKind == JsonValueKind.Array && range.GetArrayLength() == 2 &&
                    Item(range[0]) is { PrefixLength: < 0, RangeEnd: null } low && Item(range[1]) is { PrefixLength: < 0, RangeEnd: null } high)
                {
                    return new NftItem(low.Value, -1, high.Value);
                }

                if (e.TryGetProperty("elem", out var elem) && elem.ValueKind == JsonValueKind.Object && elem.TryGetProperty("val", out var val))
                {
                    return Item(val);
                }

                return null;
            default:
                return null;
        }
    }

    private static List<NftItem>? SetElements(JsonElement set)
    {
        bool dynamic = set.TryGetProperty("flags", out var flags) && flags.ValueKind == JsonValueKind.Array &&
            flags.EnumerateArray().Any(f => f.ValueKind == JsonValueKind.String && f.GetString() == "dynamic");
        if (dynamic || (set.TryGetProperty("type", out var type) && type.ValueKind != JsonValueKind.String))
        {
            return null; // filled by the packet path, or concatenated keys: its contents are not ours to know
        }

        if (!set.TryGetProperty("elem", out var elem))
        {
            return [];
        }

        return elem.ValueKind == JsonValueKind.Array ? Items(elem) : null;
    }

    private static List<string> Devices(JsonElement chain)
    {
        if (!chain.TryGetProperty("dev", out var dev))
        {
            return [];
        }

        return dev.ValueKind switch
        {
            JsonValueKind.String => [dev.GetString()!],
            JsonValueKind.Array => [.. dev.EnumerateArray().Select(d => d.ValueKind == JsonValueKind.String ? d.GetString()! : "")],
            _ => [""],
        };
    }

    private static string Str(JsonElement e, string name) => OptStr(e, name) ?? "";

    private static string? OptStr(JsonElement e, string name) =>
        e.TryGetProperty(name, out var value) ? value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            _ => null,
        } : null;
}
