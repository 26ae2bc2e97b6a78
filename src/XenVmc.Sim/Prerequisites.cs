namespace XenVmc.Sim;

/// <summary>
/// The programs a command runs, each with the Debian package that provides it, checked before
/// anything starts so a missing tool stops the command with one line instead of a bad figure.
/// </summary>
internal static class Prerequisites
{
    /// <summary>A program on PATH and the Debian package that installs it.</summary>
    public sealed record Tool(string Program, string Package, string Use);

    /// <summary>What <c>up</c> and <c>down</c> run: the simulated host itself.</summary>
    public static readonly Tool[] Host =
    [
        new("ip", "iproute2", "namespaces, veths, bridges and routes"),
        new("ss", "iproute2", "waiting for listeners"),
        new("setsid", "util-linux", "detaching the daemons"),
        new("kill", "procps", "stopping the daemons"),
        new("sysctl", "procps", "per-namespace settings"),
    ];

    /// <summary>The packages providing the tools that are not on <paramref name="path"/> (PATH's syntax), in order, each once.</summary>
    public static IReadOnlyList<string> MissingPackages(IEnumerable<Tool> tools, string? path) =>
        tools.Where(t => Find(t.Program, path) is null).Select(t => t.Package).Distinct().ToList();

    /// <summary>Throws one line naming every missing program and the command that installs them.</summary>
    public static void Require(string command, IEnumerable<Tool> tools, string? path = null)
    {
        path ??= Environment.GetEnvironmentVariable("PATH");
        var missing = tools.Where(t => Find(t.Program, path) is null).ToList();
        if (missing.Count > 0)
        {
            throw new MissingToolException($"{command} needs {string.Join(", ", missing.Select(t => t.Program).Distinct())}, not installed: apt-get install -y {string.Join(' ', missing.Select(t => t.Package).Distinct())}");
        }
    }

    /// <summary>The full path of <paramref name="program"/> on <paramref name="path"/>, or null.</summary>
    public static string? Find(string program, string? path)
    {
        foreach (string dir in (path ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, program);
            if (OperatingSystem.IsLinux() && File.Exists(candidate) && (File.GetUnixFileMode(candidate) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0)
            {
                return candidate;
            }
        }

        return null;
    }

    public static bool Has(string program) => Find(program, Environment.GetEnvironmentVariable("PATH")) is not null;
}

/// <summary>A program the command needs is not installed; the message names the package.</summary>
internal sealed class MissingToolException(string message) : IOException(message);
