using System.Diagnostics;

namespace XenVmc.Tests.Support;

/// <summary>Runs a program to the end and returns its exit code and output.</summary>
internal static class Proc
{
    public static (int Exit, string Out, string Err) Run(string file, IEnumerable<string> args, IDictionary<string, string?>? environment = null, int timeoutMs = 120_000, bool clearEnvironment = false, string? stdinFile = null)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdinFile is not null, UseShellExecute = false };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        if (clearEnvironment)
        {
            info.Environment.Clear();
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {file}");
        if (stdinFile is not null)
        {
            process.StandardInput.Write(File.ReadAllText(stdinFile));
            process.StandardInput.Close();
        }

        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeoutMs))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in {timeoutMs} ms");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    public static (int Exit, string Out, string Err) Bash(string script, int timeoutMs = 120_000) => Run("bash", ["-c", script], timeoutMs: timeoutMs);

    /// <summary>The path of a program on $PATH, or a failure (never a skip) that says which package is missing.</summary>
    public static string Require(string program, string package)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':'))
        {
            string path = System.IO.Path.Combine(dir, program);
            if (File.Exists(path))
            {
                return path;
            }
        }

        Assert.Fail($"{program} is not installed: apt-get install {package} (.ci/run installs it)");
        return "";
    }
}
