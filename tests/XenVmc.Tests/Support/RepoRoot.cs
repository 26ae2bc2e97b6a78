namespace XenVmc.Tests.Support;

/// <summary>The checkout the tests run from: the nearest parent of the test binaries holding XenVmc.sln.</summary>
internal static class RepoRoot
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "XenVmc.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no XenVmc.sln above {AppContext.BaseDirectory}");
    }
}
