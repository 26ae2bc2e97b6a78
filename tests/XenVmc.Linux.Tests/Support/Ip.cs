using System.Diagnostics;
using System.Text.Json;

namespace XenVmc.Linux.Tests;

/// <summary>Runs iproute2's "ip" in the calling thread's network namespace, as an independent witness.</summary>
internal static class Ip
{
    public static string Run(params string[] arguments)
    {
        var start = new ProcessStartInfo("nsenter")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add($"--net={NetNamespace.CurrentThreadPath}");
        start.ArgumentList.Add("ip");
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        Task<string> error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', arguments)} exited {process.ExitCode}: {error.Result}");
        }

        return output;
    }

    /// <summary>"ip -j ARGS" parsed; an empty output is an empty array.</summary>
    public static JsonElement[] Json(params string[] arguments)
    {
        string output = Run(["-j", .. arguments]).Trim();
        return output.Length == 0 ? [] : [.. JsonDocument.Parse(output).RootElement.EnumerateArray()];
    }
}
