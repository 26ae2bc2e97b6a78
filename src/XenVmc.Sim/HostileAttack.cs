using System.Text.Json.Serialization;

namespace XenVmc.Sim;

/// <summary>One rule the hostile test peer breaks in the pages it shares with its victim.</summary>
internal enum HostileAttack
{
    /// <summary>Publishes a producer index more than a ring ahead of the consumer's.</summary>
    ProdIndex,

    /// <summary>Publishes a record whose length runs past the bytes it published.</summary>
    RecordLength,

    /// <summary>A well-framed record whose IPv4 header says it is 12 bytes long.</summary>
    Header,

    /// <summary>Well-formed ICMP echo requests whose source is another guest's address, one every 50 ms until cut off.</summary>
    Source,

    /// <summary>Random bytes over the whole transmit ring and a random producer index.</summary>
    Garbage,
}

internal static class HostileAttacks
{
    public static readonly string[] Names = [.. Enum.GetValues<HostileAttack>().Select(Name)];

    public static string Name(HostileAttack attack) => attack switch
    {
        HostileAttack.ProdIndex => "prod-index",
        HostileAttack.RecordLength => "record-length",
        HostileAttack.Header => "header",
        HostileAttack.Source => "source",
        _ => "garbage",
    };

    public static List<HostileAttack> Parse(string list)
    {
        var result = new List<HostileAttack>();
        foreach (string name in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int i = Array.IndexOf(Names, name);
            if (i < 0)
            {
                throw new Platform.Hosting.UsageException($"attack '{name}': allowed {string.Join(", ", Names)}");
            }

            result.Add((HostileAttack)i);
        }

        return result.Count > 0 ? result : throw new Platform.Hosting.UsageException("--attacks: name at least one");
    }
}

/// <summary>What one round showed: the channel worked, then the victim cut it after the attack.</summary>
internal sealed record HostileRound(
    string Attack,
    string VictimRouteBefore,
    int EchoesSent,
    int EchoesAnswered,
    bool Disconnected,
    double DisconnectMs,
    string VictimRouteAfter)
{
    public override string ToString() =>
        $"attack {Attack}: victim routed us via {VictimRouteBefore}, {EchoesAnswered}/{EchoesSent} echo requests answered through the ring; " +
        (Disconnected ? $"victim disconnected after {DisconnectMs:0} ms" : "victim did NOT disconnect") + $", route now via {VictimRouteAfter}";
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(List<HostileRound>))]
internal sealed partial class HostileJson : JsonSerializerContext;
