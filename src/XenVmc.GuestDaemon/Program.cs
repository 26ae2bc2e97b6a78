using Microsoft.Extensions.DependencyInjection;
using XenVmc.Guest;
using XenVmc.GuestDaemon;
using XenVmc.Platform.Hosting;
using XenVmc.Platform.Hosting.Manual;

try
{
    var cl = CommandLine.Parse(args, [.. GuestConfiguration.CommandLineKeys.Keys, "--config", .. DocumentationOptions.Values], ["--verbose", .. DocumentationOptions.Flags]);
    if (DocumentationOptions.TryPrint(cl, GuestManual.Page))
    {
        return 0;
    }

    var daemon = new HostedDaemon<GuestConfiguration>("xenvmc-guest", GuestConfiguration.Read(cl), GuestConfiguration.From);
    daemon.Builder.Services.AddHostedService<GuestService>();
    return await daemon.RunAsync();
}
catch (Exception e) when (e is UsageException or ConfigurationException or ArgumentException)
{
    Console.Error.WriteLine($"xenvmc-guest: {e.Message}");
    return 2;
}
