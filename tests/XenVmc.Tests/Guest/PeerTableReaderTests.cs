using System.Globalization;
using XenVmc.Guest;
using XenVmc.Platform.Layout;
using XenVmc.Tests.Support;
using XenVmc.XenStore;

namespace XenVmc.Tests.Guest;

/// <summary>
/// The guest reads its peer table from a real (in-process) xenstored: entries that are not
/// another domain, addresses that do not parse or are too many or too long, a missing address
/// node, are each refused with a logged reason; good entries next to them still count, extra
/// nodes are ignored, a bad MAC is dropped without refusing the entry, and nothing throws.
/// </summary>
public sealed class PeerTableReaderTests() : SimHostTests(TimeSpan.FromSeconds(30), Self)
{
    private const ushort Self = 2;

    [Fact]
    public async Task GarbageEntries_AreRefusedAndLogged_GoodOnesNextToThemCount()
    {
        string tooMany = string.Join(' ', Enumerable.Range(1, 17).Select(i => $"198.18.1.{i}"));
        string tooLong = string.Join(' ', Enumerable.Repeat("198.18.0.9", 300));
        var entries = new (string Child, string? Ip, string? Mac)[]
        {
            ("abc", "198.18.0.10", null),
            (Self.ToString(CultureInfo.InvariantCulture), "198.18.0.2", null),
            ("70000", "198.18.0.11", null),
            ("0x3", "198.18.0.12", null),
            ("3", "not an address", null),
            ("4", tooLong, null),
            ("5", null, "00:16:3e:00:00:05"),
            ("8", tooMany, null),
            ("9", "198.18.0.9%eth0", null),
            ("6", "198.18.0.6 fd00:198:18::6", "not a mac"),
            ("7", "198.18.0.7", "00:16:3e:00:00:07"),
        };
        await WriteTableAsync(entries);
        await Host.Dom0.WriteAsync(XenVmcPaths.PeerEntry(Self, 7) + "/unexpected/deeper", "whatever", default, Ct);

        var table = await PeerTableReader.ReadAsync(Host.Guest(Self), Ct);

        Assert.Equal([6, 7], table.Keys.Order().Select(k => (int)k));
        Assert.Equal("198.18.0.6 fd00:198:18::6", table[6].AddressText);
        Assert.Equal("", table[6].Mac);
        Assert.Equal("00:16:3e:00:00:07", table[7].Mac);
        foreach (string child in new[] { "abc", "2", "70000", "0x3", "3", "4", "5", "8", "9" })
        {
            string path = XenVmcPaths.PeerTable(Self) + "/" + child;
            Assert.True(Host.Logger.Count($"peer table entry {path} refused") == 1, $"no single refusal logged for {path}: {string.Join(" | ", Host.Logger.Entries.Select(e => e.Message))}");
        }
    }

    [Fact]
    public async Task NoTable_OrAnEmptyOne_IsNoPeers()
    {
        Assert.Empty(await PeerTableReader.ReadAsync(Host.Guest(Self), Ct));
        await WriteTableAsync([]);
        Assert.Empty(await PeerTableReader.ReadAsync(Host.Guest(Self), Ct));
    }

    [Fact]
    public async Task MoreEntriesThanTheLimit_OnlyTheLimitIsRead()
    {
        var entries = Enumerable.Range(10, PeerTableReader.MaxPeers + 20)
            .Select(d => (d.ToString(CultureInfo.InvariantCulture), (string?)$"198.18.{d / 250}.{(d % 250) + 1}", (string?)null)).ToArray();
        await WriteTableAsync(entries);

        var table = await PeerTableReader.ReadAsync(Host.Guest(Self), Ct);

        Assert.Equal(PeerTableReader.MaxPeers, table.Count);
    }

    /// <summary>Dom0's side: the table under our home, readable by us only, as xenvmc-dom0 keeps it.</summary>
    private async Task WriteTableAsync((string Child, string? Ip, string? Mac)[] entries)
    {
        var dom0 = Host.Dom0;
        await dom0.TransactAsync(async tx =>
        {
            await dom0.MkdirAsync(XenVmcPaths.PeerTable(Self), tx, Ct);
            await dom0.SetPermissionsAsync(XenVmcPaths.PeerTableRoot(Self), [new(XsAccess.None, 0), new(XsAccess.Read, Self)], tx, Ct);
            await dom0.SetPermissionsAsync(XenVmcPaths.PeerTable(Self), [new(XsAccess.None, 0), new(XsAccess.Read, Self)], tx, Ct);
            foreach (var (child, ip, mac) in entries)
            {
                string path = XenVmcPaths.PeerTable(Self) + "/" + child;
                await dom0.MkdirAsync(path, tx, Ct);
                await dom0.SetPermissionsAsync(path, [new(XsAccess.None, 0), new(XsAccess.Read, Self)], tx, Ct);
                if (ip is not null)
                {
                    await dom0.WriteAsync(path + "/" + XenVmcPaths.AddressesLeaf, ip, tx, Ct);
                }

                if (mac is not null)
                {
                    await dom0.WriteAsync(path + "/" + XenVmcPaths.MacLeaf, mac, tx, Ct);
                }
            }
        }, Ct);
    }
}
