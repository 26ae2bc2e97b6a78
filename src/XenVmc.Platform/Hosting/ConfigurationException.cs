namespace XenVmc.Platform.Hosting;

/// <summary>
/// A configuration value the daemon refuses at start. The message names the option, the value and
/// what is allowed, and where the value came from when that is known; the program exits with status 2.
/// </summary>
public sealed class ConfigurationException(string message) : Exception(message)
{
    public static ConfigurationException Refused(string option, string? value, string allowed) =>
        new($"option {option}: '{value}' is not allowed; allowed: {allowed}");
}
