using XenVmc.Tests.Support;

namespace XenVmc.Tests.Packaging;

/// <summary>
/// The package, built once for the tests of <see cref="DebianPackageTests"/> (publishing the three
/// programs takes minutes), and its files unpacked into a directory with <c>dpkg-deb -x</c>.
/// </summary>
public sealed class DebianPackageFixture : IDisposable
{
    private readonly TempDirectory _dir = new();

    public DebianPackageFixture()
    {
        Proc.Require("dpkg-deb", "dpkg");
        Build = Proc.Run(Path.Combine(RepoRoot.Path, "packaging", "build-deb.sh"), [_dir.Combine("dist")], timeoutMs: 20 * 60_000);
        Assert.True(Build.Exit == 0, $"build-deb.sh exited {Build.Exit}: {Build.Err}");
        Deb = Build.Out.Trim();
        InstalledRoot = _dir.Combine("unpacked");
        var unpack = Proc.Run("dpkg-deb", ["-x", Deb, InstalledRoot]);
        Assert.True(unpack.Exit == 0, unpack.Err);
    }

    /// <summary>build-deb.sh's exit code and output (the last line is the .deb's path).</summary>
    public (int Exit, string Out, string Err) Build { get; }

    public string Deb { get; }

    /// <summary>The package's files as dpkg would install them, under a scratch directory.</summary>
    public string InstalledRoot { get; }

    public void Dispose() => _dir.Dispose();
}
