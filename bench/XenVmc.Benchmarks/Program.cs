using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace XenVmc.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project bench/XenVmc.Benchmarks -- --filter '*'</c>: every benchmark
/// with a short job (3 warm-up and 5 measured iterations, in this process: no separate build of a
/// boilerplate project, which a busy 2-core machine did not finish in BenchmarkDotNet's 2 min)
/// and bytes allocated per operation; one operation is one packet unless the name says otherwise.
/// </summary>
internal static class Program
{
    public static void Main(string[] args)
    {
        var config = DefaultConfig.Instance
            .AddJob(Job.ShortRun.WithWarmupCount(3).WithIterationCount(5).WithLaunchCount(1).WithToolchain(InProcessEmitToolchain.Instance))
            .AddDiagnoser(MemoryDiagnoser.Default)
            .WithOptions(ConfigOptions.DisableOptimizationsValidator);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
    }
}
