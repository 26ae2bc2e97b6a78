namespace XenVmc.Platform.Hosting.Manual;

/// <summary>
/// One program's documentation, the single source of its <c>--help</c> text, its manual page
/// (<see cref="ManPage"/>) and, for a daemon, its configuration file's manual page and README.md's
/// option table (<see cref="ConfigurationManual"/>): none of them can say something the others do not.
/// </summary>
public sealed record ProgramManual
{
    /// <summary>The program's name, e.g. <c>xenvmc-guest</c>.</summary>
    public required string Name { get; init; }

    /// <summary>One line: what it is, after "name —" in <c>--help</c> and in the manual's NAME.</summary>
    public required string Summary { get; init; }

    /// <summary>What follows the name in a usage line, e.g. <c>[options]</c>.</summary>
    public required string Synopsis { get; init; }

    /// <summary>Paragraphs after the options in <c>--help</c> and in the manual's DESCRIPTION.</summary>
    public IReadOnlyList<string> Description { get; init; } = [];

    /// <summary>Subcommands (<c>xenvmc status</c> …), each with its own usage and help.</summary>
    public IReadOnlyList<CommandDoc> Commands { get; init; } = [];

    /// <summary>Command-line options; with a configuration key they are also configuration options.</summary>
    public IReadOnlyList<OptionDoc> Options { get; init; } = [];

    /// <summary>Options that live only in the configuration file (no command-line form).</summary>
    public IReadOnlyList<OptionDoc> FileOnlyOptions { get; init; } = [];

    public IReadOnlyList<(string Code, string Meaning)> ExitCodes { get; init; } = [];

    /// <summary>Files the program reads or writes, with what they are.</summary>
    public IReadOnlyList<(string Path, string Meaning)> Files { get; init; } = [];

    /// <summary>Other manual pages, e.g. <c>xenvmc(1)</c>.</summary>
    public IReadOnlyList<string> SeeAlso { get; init; } = [];

    /// <summary>The configuration file, for a daemon: its path and the environment prefix.</summary>
    public ConfigurationFileDoc? ConfigurationFile { get; init; }

    /// <summary>Every option a configuration file may hold, in the order the manual lists them.</summary>
    public IEnumerable<OptionDoc> ConfigurationOptions => Options.Where(o => o.Key is not null).Concat(FileOnlyOptions);
}

/// <summary>
/// One option. <paramref name="Flag"/> is the command-line form (<c>--mtu</c>) or null for a file-only
/// option; <paramref name="Key"/> the configuration key (<c>Mtu</c>, <c>Pairing:Mode</c>) or null for a
/// command-line-only one; <paramref name="Value"/> the placeholder after the flag (<c>N</c>);
/// <paramref name="Default"/> as the reader should see it, or null when there is none.
/// </summary>
public sealed record OptionDoc(string? Flag, string? Value, string? Key, string? Default, string Meaning);

/// <summary>A subcommand: its usage line (after the program's name) and what it does.</summary>
public sealed record CommandDoc(string Name, string Usage, string Meaning, IReadOnlyList<OptionDoc> Options);

/// <summary>A daemon's configuration file: where it is, its environment prefix, and what precedes the options in its manual.</summary>
public sealed record ConfigurationFileDoc(string Path, string EnvironmentPrefix, IReadOnlyList<string> Description);
