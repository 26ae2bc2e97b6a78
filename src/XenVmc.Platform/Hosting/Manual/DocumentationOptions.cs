namespace XenVmc.Platform.Hosting.Manual;

/// <summary>
/// What a daemon prints instead of running: <c>--help</c>, <c>--version</c>, and the hidden
/// <c>--man 1|5|readme</c> that the package build uses to write the manual pages (and that
/// README.md's option table is pasted from), all rendered from the daemon's one manual.
/// </summary>
public static class DocumentationOptions
{
    /// <summary>The options to accept besides the daemon's own: values, then flags.</summary>
    public static readonly string[] Values = ["--man"];

    public static readonly string[] Flags = ["--help", "--version"];

    /// <summary>Prints what was asked and returns true (exit 0), or returns false when the daemon should run.</summary>
    /// <exception cref="UsageException"><c>--man</c> names no section.</exception>
    public static bool TryPrint(CommandLine cl, ProgramManual page)
    {
        if (cl.Has("--help"))
        {
            Console.WriteLine(HelpText.Render(page));
            return true;
        }

        if (cl.Get("--man") is { } section)
        {
            Console.Write(section switch
            {
                "1" => ManPage.Program(page, DaemonHost.Version),
                "5" => ManPage.Configuration(page, DaemonHost.Version),
                "readme" => MarkdownTable.Configuration(page),
                _ => throw new UsageException($"--man {section}: allowed 1 (the program), 5 (its configuration file) or readme (README.md's option table)"),
            });
            return true;
        }

        if (cl.Has("--version"))
        {
            Console.WriteLine($"{page.Name} {DaemonHost.Version}");
            return true;
        }

        return false;
    }
}
