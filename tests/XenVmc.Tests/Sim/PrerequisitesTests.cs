using XenVmc.Sim;

namespace XenVmc.Tests.Sim;

/// <summary>The tools check before the demo and <c>up</c>: a missing program stops them with its Debian package named.</summary>
public sealed class PrerequisitesTests : IDisposable
{
    private static readonly Prerequisites.Tool[] Tools =
    [
        new("ip", "iproute2", "links"),
        new("ss", "iproute2", "listeners"),
        new("iperf3", "iperf3", "throughput"),
        new("ping", "iputils-ping", "latency"),
    ];

    private readonly string _dir = Directory.CreateTempSubdirectory("xenvmc-prereq-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private void Install(string program, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute)
    {
        string file = Path.Combine(_dir, program);
        File.WriteAllText(file, "#!/bin/sh\n");
        File.SetUnixFileMode(file, mode);
    }

    [Fact]
    public void AllInstalled_NothingMissing()
    {
        foreach (string program in new[] { "ip", "ss", "iperf3", "ping" })
        {
            Install(program);
        }

        Assert.Empty(Prerequisites.MissingPackages(Tools, "/nonexistent:" + _dir));
        Prerequisites.Require("the demo", Tools, _dir);
    }

    [Fact]
    public void Missing_OneLineNamesProgramsAndEachPackageOnce()
    {
        Install("ip");

        Assert.Equal(["iproute2", "iperf3", "iputils-ping"], Prerequisites.MissingPackages(Tools, _dir));
        var e = Assert.Throws<MissingToolException>(() => Prerequisites.Require("the demo", Tools, _dir));
        Assert.Equal("the demo needs ss, iperf3, ping, not installed: apt-get install -y iproute2 iperf3 iputils-ping", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void NotExecutableOrEmptyPath_CountsAsMissing()
    {
        Install("ping", UnixFileMode.UserRead | UnixFileMode.UserWrite);

        Assert.Null(Prerequisites.Find("ping", _dir));
        Assert.Null(Prerequisites.Find("ping", null));
        Assert.Null(Prerequisites.Find("ping", ""));
    }
}
