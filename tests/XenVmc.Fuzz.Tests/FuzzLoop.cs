using System.Diagnostics;
using System.Security.Cryptography;
using Xunit.Abstractions;

namespace XenVmc.Fuzz.Tests;

/// <summary>
/// A mutational fuzz loop without coverage instrumentation (SharpFuzz is not available here):
/// entries of the committed corpus (plus built-in seeds) are mutated and run through a target,
/// which checks its invariants and returns a behaviour signature; an input whose signature was
/// never seen joins the in-memory corpus (and, with XENVMC_FUZZ_SAVE=1, the committed one), so
/// the search keeps moving towards inputs that make the code do something new.
/// </summary>
/// <remarks>
/// A target signals a finding by throwing; the failing input is written to
/// <c>corpus/&lt;target&gt;/crashes/</c> (not committed) and the test fails with its hex.
/// </remarks>
internal sealed class FuzzLoop(string target, ITestOutputHelper output, int maxLength)
{
    public long Executions { get; private set; }

    public int Signatures => _signatures.Count;

    /// <summary>Saving stops here: the committed corpus stays small enough to read and to load in CI.</summary>
    private const int MaxCorpusFiles = 128;

    private readonly HashSet<string> _signatures = [];

    public void Run(IEnumerable<byte[]> seeds, Func<byte[], string> execute)
    {
        string directory = Path.Combine(FuzzSettings.CorpusRoot, target);
        var corpus = new List<byte[]>();
        if (Directory.Exists(directory))
        {
            corpus.AddRange(Directory.GetFiles(directory).Order(StringComparer.Ordinal).Select(File.ReadAllBytes));
        }

        int committed = corpus.Count;
        corpus.AddRange(seeds);
        Assert.NotEmpty(corpus);
        foreach (byte[] entry in corpus.ToArray())
        {
            Execute(entry, execute);
        }

        var random = new Random(FuzzSettings.Seed ^ target.GetHashCode(StringComparison.Ordinal));
        var mutator = new Mutator(random, maxLength);
        int saved = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < FuzzSettings.Budget)
        {
            for (int i = 0; i < 64; i++)
            {
                byte[] input = mutator.Mutate(corpus[random.Next(corpus.Count)], corpus);
                if (Execute(input, execute))
                {
                    corpus.Add(input);
                    if (FuzzSettings.Save && committed + saved < MaxCorpusFiles)
                    {
                        Directory.CreateDirectory(directory);
                        File.WriteAllBytes(Path.Combine(directory, Name(input)), input);
                        saved++;
                    }
                }
            }
        }

        output.WriteLine($"fuzz {target}: {Executions} executions in {clock.Elapsed.TotalSeconds:0.0} s (seed {FuzzSettings.Seed}), " +
            $"{_signatures.Count} distinct behaviours, corpus {committed} committed + {corpus.Count - committed} seeds/new, {saved} saved");
    }

    /// <summary>Runs one input; true if it showed a behaviour not seen before.</summary>
    private bool Execute(byte[] input, Func<byte[], string> execute)
    {
        Executions++;
        string signature;
        try
        {
            signature = execute(input);
        }
        catch (Exception e)
        {
            string crashes = Path.Combine(FuzzSettings.CorpusRoot, target, "crashes");
            Directory.CreateDirectory(crashes);
            File.WriteAllBytes(Path.Combine(crashes, Name(input)), input);
            throw new FuzzFindingException($"fuzz {target}: input {Convert.ToHexStringLower(input)} (seed {FuzzSettings.Seed}) broke an invariant: {e}", e);
        }

        return _signatures.Add(signature);
    }

    private static string Name(byte[] input) => Convert.ToHexStringLower(SHA1.HashData(input))[..16];
}

internal sealed class FuzzFindingException(string message, Exception inner) : Exception(message, inner);
