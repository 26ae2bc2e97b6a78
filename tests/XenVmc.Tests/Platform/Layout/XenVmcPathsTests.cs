using XenVmc.Platform.Layout;

namespace XenVmc.Tests.Platform.Layout;

/// <summary>Domid path components come from XenStore directory listings: untrusted text.</summary>
public sealed class XenVmcPathsTests
{
    [Theory]
    [InlineData("0", 0)]
    [InlineData("1", 1)]
    [InlineData("9", 9)]
    [InlineData("10", 10)]
    [InlineData("32751", 0x7FEF)] // the last domid before DOMID_FIRST_RESERVED
    public void TryParseDomid_Good(string text, int expected)
    {
        Assert.True(XenVmcPaths.TryParseDomid(text, out ushort domid));
        Assert.Equal(expected, domid);
    }

    [Theory]
    [InlineData("")]
    [InlineData("00")]
    [InlineData("01")]
    [InlineData("-1")]
    [InlineData("+1")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("1\n")]
    [InlineData("0x1")]
    [InlineData("1e3")]
    [InlineData("32752")] // DOMID_FIRST_RESERVED (0x7FF0)
    [InlineData("32767")]
    [InlineData("65535")]
    [InlineData("99999")]
    [InlineData("100000")]
    [InlineData("4294967297")]
    [InlineData("\u0661")] // a digit, but not an ASCII one
    [InlineData("\uff11")]
    [InlineData("abc")]
    public void TryParseDomid_Bad(string text)
    {
        Assert.False(XenVmcPaths.TryParseDomid(text, out ushort domid));
        Assert.Equal(0, domid);
    }

    [Fact]
    public void TryParseDomid_RandomText_NeverThrows_AndRoundTrips()
    {
        var random = new Random(3);
        const string alphabet = "0123456789-+ x\u0661";
        for (int i = 0; i < 20_000; i++)
        {
            int length = random.Next(0, 8);
            string text = string.Concat(Enumerable.Range(0, length).Select(_ => alphabet[random.Next(alphabet.Length)]));

            if (XenVmcPaths.TryParseDomid(text, out ushort domid))
            {
                Assert.True(domid < 0x7FF0);
                Assert.Equal(text, domid.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        for (int value = 0; value < 0x8000; value += 7)
        {
            string text = value.ToString(System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(value < 0x7FF0, XenVmcPaths.TryParseDomid(text, out _));
        }
    }

    [Fact]
    public void Paths_FollowTheV1Layout()
    {
        Assert.Equal("/local/domain/7/data/xenvmc/state", XenVmcPaths.GuestState(7));
        Assert.Equal("/local/domain/7/xenvmc/peers", XenVmcPaths.PeerTable(7));
        Assert.Equal("/local/domain/7/xenvmc", XenVmcPaths.PeerTableRoot(7));
        Assert.Equal("/local/domain/7/xenvmc/peers/9", XenVmcPaths.PeerEntry(7, 9));
        Assert.Equal("/local/domain/7/data/xenvmc/channel/9", XenVmcPaths.Channel(7, 9));
        Assert.Equal("/local/domain/0/backend/vif/7/0", XenVmcPaths.VifBackend(0, 7, 0));
    }
}
