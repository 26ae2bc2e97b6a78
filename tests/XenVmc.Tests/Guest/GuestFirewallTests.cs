using XenVmc.Guest.Firewall;
using XenVmc.Tests.Platform.Firewall;

namespace XenVmc.Tests.Guest;

/// <summary>The guest's side-door warning, on golden listings of a guest firewall.</summary>
public sealed class GuestFirewallTests
{
    [Fact]
    public void RulesNamingEth0Only_AreReported_WithTheFirst()
    {
        string? warning = GuestFirewall.Warning(NftJsonTests.Golden("nft-guest-eth0-only.json"), "vmc0");
        Assert.NotNull(warning);
        Assert.StartsWith("2 nft rules name eth0 and not vmc0 (0 name vmc0 alone), e.g. 'inet filter input handle 3: iifname eth0 tcp dport 22 accept'", warning);
    }

    [Fact]
    public void RulesThatAlsoNameTheBypass_OrNoUplinkRules_AreFine()
    {
        Assert.Null(GuestFirewall.Warning(NftJsonTests.Golden("nft-guest-both.json"), "vmc0"));
        Assert.Null(GuestFirewall.Warning(NftJsonTests.Golden("nft-dom0.json"), "vmc0"));
    }
}
