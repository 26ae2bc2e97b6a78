using XenVmc.Platform.Firewall;
using XenVmc.Tests.Support;

namespace XenVmc.Tests.Platform.Firewall;

/// <summary>
/// The nft JSON reader on golden listings captured with <c>nft -j list ruleset</c> (nftables 1.0.6)
/// from the rules in the <c>.nft</c> file beside each, loaded into a network namespace.
/// </summary>
public sealed class NftJsonTests
{
    internal static NftRuleset Golden(string name) => NftJson.Parse(GoldenText(name));

    internal static string GoldenText(string name) => File.ReadAllText(Path.Combine(RepoRoot.Path, "tests/XenVmc.Tests/Platform/Firewall", name));

    [Fact]
    public void Dom0Golden_ChainsRulesAndSets()
    {
        var ruleset = Golden("nft-dom0.json");
        Assert.Equal(["bridge filt forward", "bridge filt sub", "inet fw forward_guests", "inet fw input_all", "netdev ing lo_in"], ruleset.Chains.Select(c => c.Label));
        var forward = ruleset.FindChain("bridge", "filt", "forward")!;
        Assert.Equal(("forward", "accept"), (forward.Hook, forward.Policy));
        Assert.Null(ruleset.FindChain("bridge", "filt", "sub")!.Hook);
        Assert.Equal("drop", ruleset.FindChain("inet", "fw", "forward_guests")!.Policy);
        Assert.Equal(
            [
                "bridge filt forward handle 4: ip daddr 198.18.0.2 tcp dport 5201 drop",
                "bridge filt forward handle 5: ip daddr 203.0.113.0/24 drop",
                "bridge filt forward handle 6: ip saddr @blocked counter drop",
                "bridge filt forward handle 7: iifname vif9.0 drop",
                "bridge filt forward handle 8: jump sub",
            ],
            forward.Rules.Select(r => r.Text));
        Assert.Equal("bridge filt sub handle 11: ip6 daddr fd00:198:18::9 udp dport { 53, 123 } drop", ruleset.FindChain("bridge", "filt", "sub")!.Rules[1].Text);
        Assert.Equal("inet fw forward_guests handle 6: ip daddr != 198.18.0.0/15 log reject", ruleset.FindChain("inet", "fw", "forward_guests")!.Rules[2].Text);
        Assert.Equal(["198.18.0.9", "198.18.0.10"], ruleset.FindSet("bridge", "filt", "blocked")!.Elements!.Select(e => e.Text));
    }

    [Fact]
    public void IntervalSet_KeepsRangesAndPrefixes()
    {
        var set = Golden("nft-other-networks.json").FindSet("bridge", "other", "nets")!;
        Assert.Equal(["10.0.0.1-10.0.0.9", "203.0.113.0/24"], set.Elements!.Select(e => e.Text));
        Assert.True(set.Elements![0].Contains(System.Net.IPAddress.Parse("10.0.0.5")));
        Assert.False(set.Elements![0].Contains(System.Net.IPAddress.Parse("10.0.0.10")));
        Assert.True(set.Elements![1].Contains(System.Net.IPAddress.Parse("203.0.113.77")));
    }

    [Theory]
    [InlineData("""{"set":{"family":"ip","name":"d","table":"t","type":"ipv4_addr","flags":["dynamic"],"elem":["1.2.3.4"]}}""")]
    [InlineData("""{"set":{"family":"ip","name":"d","table":"t","type":["ipv4_addr","inet_service"],"elem":[{"concat":["1.2.3.4",80]}]}}""")]
    [InlineData("""{"map":{"family":"ip","name":"d","table":"t","type":"ipv4_addr","map":"verdict"}}""")]
    public void SetsWhoseContentsAreNotKnown_HaveNoElements(string item)
    {
        var set = NftJson.Parse($$"""{"nftables":[{{item}}]}""").FindSet("ip", "t", "d");
        Assert.NotNull(set);
        Assert.Null(set.Elements);
    }

    [Fact]
    public void UnknownExpressions_AreKeptAsUnknown()
    {
        var ruleset = NftJson.Parse("""
            {"nftables":[{"chain":{"family":"ip","table":"t","name":"c","hook":"forward","policy":"accept"}},
            {"rule":{"family":"ip","table":"t","chain":"c","handle":3,"expr":[
              {"match":{"op":"==","left":{"payload":{"base":"nh","offset":96,"len":32}},"right":{"frobnicate":1}}},
              {"xt":{"type":"match","name":"physdev"}},
              {"mangle":{"key":{"meta":{"key":"mark"}},"value":1}},
              {"vmap":{"key":{"payload":{"protocol":"tcp","field":"dport"}},"data":{"set":[[22,{"drop":null}]]}}},
              7, {}, {"jump":{"target":"x"}}]}}]}
            """);
        var e = ruleset.Rules.Single().Expressions;
        var match = Assert.IsType<NftMatch>(e[0]);
        Assert.Equal("other", match.Left.Kind);
        Assert.Null(match.Right.Items);
        Assert.Equal("xt physdev", Assert.IsType<NftMatch>(e[1]).Left.Key);
        Assert.False(Assert.IsType<NftStatement>(e[2]).IsHarmless);
        Assert.False(Assert.IsType<NftStatement>(e[3]).IsHarmless);
        Assert.IsType<NftStatement>(e[4]);
        Assert.IsType<NftStatement>(e[5]);
        Assert.Equal(new NftVerdict("jump", "x"), e[6]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("""{"nftables":{}}""")]
    public void NotAListing_IsAFormatException(string text) => Assert.Throws<FormatException>(() => NftJson.Parse(text));

    /// <summary>Every truncation and many random byte flips of the golden listings parse or fail with FormatException, nothing else.</summary>
    [Fact]
    public void DamagedListings_NeverThrowAnythingElse()
    {
        var random = new Random(23);
        foreach (string name in new[] { "nft-dom0.json", "nft-other-networks.json", "nft-guest-both.json" })
        {
            string text = GoldenText(name);
            for (int cut = 0; cut < text.Length; cut += 7)
            {
                Survives(text[..cut]);
            }

            const string alphabet = "{}[]\",:0123456789abcnull truefalse-@";
            for (int i = 0; i < 2000; i++)
            {
                var chars = text.ToCharArray();
                for (int flips = random.Next(1, 4); flips > 0; flips--)
                {
                    chars[random.Next(chars.Length)] = alphabet[random.Next(alphabet.Length)];
                }

                Survives(new string(chars));
            }
        }
    }

    private static void Survives(string text)
    {
        try
        {
            var ruleset = NftJson.Parse(text);
            _ = ruleset.Rules.Select(r => r.Text).ToList();
        }
        catch (FormatException)
        {
        }
    }
}
