using System.Diagnostics;
using Xunit;

namespace XenVmc.Linux.Tests;

public class NfTablesGenerationTests
{
    [Fact]
    public void Generation_ChangesWithTheRuleSet_AndOnlyThen() => NetnsThread.Run(() =>
    {
        using var generation = NfTablesGeneration.Open();
        uint before = generation.Read();
        Assert.Equal(before, generation.Read());

        // nft forks from this thread, so it changes this test's own network namespace
        Nft("add table inet xvmc_gen_test");

        uint after = generation.Read();
        Assert.NotEqual(before, after);
        Assert.Equal(after, generation.Read());
    });

    [Fact]
    public void ParseId_ReadsTheBigEndianAttribute_AndRefusesACutOne()
    {
        // nfgenmsg, then NFTA_GEN_ID (len 8, type 1, 0x00000107), NFTA_GEN_PROC_PID
        byte[] payload = [0, 0, 0, 0, 8, 0, 1, 0, 0, 0, 1, 7, 8, 0, 2, 0, 1, 2, 3, 4];
        Assert.Equal(263u, NfTablesGeneration.ParseId(payload));
        Assert.Null(NfTablesGeneration.ParseId(payload.AsSpan(0, 10)));
        Assert.Null(NfTablesGeneration.ParseId([0, 0, 0, 0]));
    }

    private static void Nft(string command)
    {
        var info = new ProcessStartInfo("nft") { RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in command.Split(' '))
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"nft {command}: {error}");
    }
}
