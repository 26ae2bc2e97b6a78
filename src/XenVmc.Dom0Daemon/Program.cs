using Microsoft.Extensions.DependencyInjection;
using XenVmc.Dom0;
using XenVmc.Dom0Daemon;
using XenVmc.Platform.Hosting;
using XenVmc.Platform.Hosting.Manual;

try
{
    var cl = CommandLine.Parse(args, [.. Dom0Configuration.CommandLineKeys.Keys, "--config", .. DocumentationOptions.Values], ["--verbose", .. DocumentationOptions.Flags]);
    if (DocumentationOptions.TryPrint(cl, Dom0Manual.Page))
    {
        return 0;
    }

    var daemon = new HostedDaemon<Dom0Configuration>("xenvmc-dom0", Dom0Configuration.Read(cl), Dom0Configuration.From);
    daemon.Builder.Services.AddSingleton<Dom0StoreConnection>();
    daemon.Builder.Services.AddHostedService<Dom0Service>();
    daemon.Builder.Services.AddHostedService<Dom0HealthService>();
    return await daemon.RunAsync();
}
catch (Exception e) when (e is UsageException or ConfigurationException)
{
    Console.Error.WriteLine($"xenvmc-dom0: {e.Message}");
    return 2;
}
