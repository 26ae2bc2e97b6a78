using SharpFuzz;
using XenVmc.Rings.Tests;

namespace XenVmc.Fuzz.Tests;

/// <summary>
/// The afl++ entry point: <c>XenVmc.AflFuzz TARGET</c> runs one fuzz target under SharpFuzz's
/// fork-server protocol (afl-fuzz starts it); <c>XenVmc.AflFuzz TARGET --replay FILE...</c> runs
/// the target on files once each and prints what it returned or threw (to check a finding).
/// A target signals a finding by throwing, which SharpFuzz reports to afl as a crash.
/// </summary>
internal static class AflProgram
{
    public static readonly string[] Targets = ["packets", "ring", "xenstore-client", "peer-table", "config"];

    public static int Main(string[] args)
    {
        if (args.Length == 0 || Target(args[0]) is not { } execute)
        {
            Console.Error.WriteLine($"usage: XenVmc.AflFuzz {{{string.Join('|', Targets)}}} [--replay FILE...]");
            return 2;
        }

        if (args.Length > 1 && args[1] == "--replay")
        {
            // Instrumented code records every branch in afl's coverage map; without afl, in memory of our own.
            unsafe
            {
                SharpFuzz.Common.Trace.SharedMem = (byte*)System.Runtime.InteropServices.NativeMemory.AllocZeroed(1 << 16);
            }

            int failed = 0;
            foreach (string file in args.Skip(2))
            {
                try
                {
                    Console.WriteLine($"{file}: {execute(File.ReadAllBytes(file))}");
                }
                catch (Exception e)
                {
                    failed++;
                    Console.WriteLine($"{file}: FINDING {e}");
                }
            }

            return failed == 0 ? 0 : 1;
        }

        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            execute(copy.ToArray());
        });
        return 0;
    }

    private static Func<byte[], string>? Target(string name)
    {
        switch (name)
        {
            case "packets":
                return PacketFuzzTests.Execute;
            case "ring":
                // Made on the first input: instrumented code runs only once the coverage map is there.
                TestChannel? channel = null;
                return input => RingFuzzTests.Execute(channel ??= new TestChannel(RingFuzzTests.SizeLog2, RingFuzzTests.SizeLog2), input);
            case "xenstore-client":
                return input => XenStoreClientFuzzTests.ExecuteAsync(input).GetAwaiter().GetResult();
            case "peer-table":
                return PeerTableFuzzTests.Execute;
            case "config":
                return ConfigurationFuzzTests.Execute;
            default:
                return null;
        }
    }
}
