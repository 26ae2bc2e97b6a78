using Microsoft.Extensions.Logging;

namespace XenVmc.Platform.Hosting;

/// <summary>What the host itself needs from a daemon's options: where the pid file goes and how much to log.</summary>
public interface IDaemonOptions
{
    string? PidFile { get; }

    LogLevel LogLevel { get; }
}
