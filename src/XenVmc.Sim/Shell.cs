using System.Diagnostics;

namespace XenVmc.Sim;

/// <summary>Runs the system tools the simulated host is made of (ip, iperf3, …) and says clearly when one fails.</summary>
internal static class Shell
{
    public static string Run(string file, params string[] args) => Run(file, args, check: true).Output;

    public static (int Exit, string Output, string Error) Run(string file, IReadOnlyList<string> args, bool check, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new IOException($"could not start {file}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new IOException($"{file}: {e.Message} (is it installed?)", e);
        }

        using (process)
        {
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout ?? TimeSpan.FromSeconds(60)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{file} {string.Join(' ', args)}: no answer within {(timeout ?? TimeSpan.FromSeconds(60)).TotalSeconds} s");
            }

            string output = stdout.GetAwaiter().GetResult();
            string error = stderr.GetAwaiter().GetResult();
            if (check && process.ExitCode != 0)
            {
                throw new IOException($"{file} {string.Join(' ', args)} failed ({process.ExitCode}): {error.Trim()}");
            }

            return (process.ExitCode, output, error);
        }
    }

    /// <summary>
    /// Starts a long-running program detached from us (its own session, output to a log file),
    /// optionally inside a network namespace. It writes its own pid file.
    /// </summary>
    public static void StartDetached(string? netns, string logFile, string file, params string[] args)
    {
        var command = new List<string> { "setsid", "--fork" };
        if (netns is not null)
        {
            command.AddRange(["ip", "netns", "exec", netns]);
        }

        command.Add(file);
        command.AddRange(args);
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec \"$@\" >>\"$LOG\" 2>&1 </dev/null");
        info.ArgumentList.Add("sh");
        foreach (string part in command)
        {
            info.ArgumentList.Add(part);
        }

        info.Environment["LOG"] = logFile;
        using var process = Process.Start(info) ?? throw new IOException($"could not start {file}");
        process.WaitForExit();
    }
}
