using System.Globalization;

namespace XenVmc.Fuzz.Tests;

/// <summary>
/// How long and how the fuzzers run, from the environment:
/// <c>XENVMC_FUZZ_SECONDS</c> (per target, default 8: the CI run), <c>XENVMC_FUZZ_SEED</c>
/// (default: a fresh seed, printed so a failure can be replayed), <c>XENVMC_FUZZ_SAVE=1</c>
/// (write inputs that showed a new behaviour into the committed corpus).
/// </summary>
internal static class FuzzSettings
{
    public static TimeSpan Budget { get; } = TimeSpan.FromSeconds(ReadDouble("XENVMC_FUZZ_SECONDS", 8));

    public static int Seed { get; } = (int)ReadDouble("XENVMC_FUZZ_SEED", Random.Shared.Next());

    public static bool Save { get; } = Environment.GetEnvironmentVariable("XENVMC_FUZZ_SAVE") == "1";

    /// <summary>tests/XenVmc.Fuzz.Tests/corpus in the source tree (found above the test binaries).</summary>
    public static string CorpusRoot { get; } = FindCorpusRoot();

    private static double ReadDouble(string name, double fallback) =>
        double.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Float, CultureInfo.InvariantCulture, out double value) ? value : fallback;

    private static string FindCorpusRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "XenVmc.Fuzz.Tests", "corpus");
            if (File.Exists(Path.Combine(dir.FullName, "XenVmc.sln")))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("cannot find the repository root (XenVmc.sln) above " + AppContext.BaseDirectory);
    }
}
