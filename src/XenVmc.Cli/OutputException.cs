namespace XenVmc.Cli;

/// <summary>A file the command was told to write could not be written: exit code 4, like a failed system call.</summary>
internal sealed class OutputException(string message, Exception inner) : Exception(message, inner);
