using System.ComponentModel;
using System.Diagnostics;

namespace XenVmc.Platform.Firewall;

/// <summary>Runs a rule-set listing tool (<c>nft -j list ruleset</c>, <c>iptables-legacy-save</c>…) with a timeout.</summary>
public static class NftCommand
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The tool's output; <see cref="ToolResult.Missing"/> when it is not installed.</summary>
    public static async Task<ToolResult> RunAsync(string tool, IReadOnlyList<string> args, CancellationToken ct, TimeSpan? timeout = null)
    {
        string? path = Find(tool);
        if (path is null)
        {
            return ToolResult.Missing;
        }

        var info = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new Win32Exception("no process");
        }
        catch (Win32Exception e)
        {
            return new ToolResult(true, null, $"{tool}: {e.Message}");
        }

        using (process)
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            limit.CancelAfter(timeout ?? DefaultTimeout);
            var stdout = process.StandardOutput.ReadToEndAsync(limit.Token);
            var stderr = process.StandardError.ReadToEndAsync(limit.Token);
            try
            {
                await process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
                string output = await stdout.ConfigureAwait(false);
                string error = await stderr.ConfigureAwait(false);
                return process.ExitCode == 0
                    ? new ToolResult(true, output, null)
                    : new ToolResult(true, null, $"{tool} exited with {process.ExitCode}: {FirstLine(error)}");
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                process.Kill(entireProcessTree: true);
                return new ToolResult(true, null, $"{tool} gave no answer within {(timeout ?? DefaultTimeout).TotalSeconds:0} s");
            }
        }
    }

    private static string? Find(string tool)
    {
        string search = Environment.GetEnvironmentVariable("PATH") is { Length: > 0 } p ? p + ":/usr/sbin:/sbin" : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        return search.Split(':', StringSplitOptions.RemoveEmptyEntries).Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);
    }

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim() is { Length: > 0 } line ? line[..Math.Min(line.Length, 200)] : "no message";
}

/// <summary>A tool's answer: <see cref="Output"/> on success, <see cref="Error"/> when it failed; neither when it is not <see cref="Installed"/>.</summary>
public sealed record ToolResult(bool Installed, string? Output, string? Error)
{
    public static ToolResult Missing { get; } = new(false, null, null);
}
