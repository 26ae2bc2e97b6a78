using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace XenVmc.Platform.Hosting;

/// <summary>
/// A XenVMC daemon on the .NET generic host: its <see cref="DaemonConfiguration"/> is the host's
/// configuration, its options (<typeparamref name="TOptions"/>) are bound from it by the daemon's own
/// binder and validated when the host is built and started, logging goes through the host's
/// <see cref="ILogger"/> in the systemd format when systemd runs it, <see cref="DaemonLifetime"/>
/// turns SIGTERM/SIGINT into a clean stop with STOPPING=1, and the daemon's work runs as
/// <see cref="DaemonService"/>s that send READY=1 themselves once they serve.
/// </summary>
public sealed class HostedDaemon<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] TOptions>
    where TOptions : class, IDaemonOptions
{
    /// <param name="name">the program's name: its logger category and the prefix of its error lines</param>
    /// <param name="configuration">the loaded configuration (file, environment, command line)</param>
    /// <param name="bind">the daemon's binder: reads and checks every option, throws <see cref="ConfigurationException"/></param>
    public HostedDaemon(string name, DaemonConfiguration configuration, Func<DaemonConfiguration, TOptions> bind)
    {
        Builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = name, DisableDefaults = true });
        Builder.Configuration.AddConfiguration(configuration.Root);
        var services = Builder.Services;
        services.AddSingleton(configuration);
        services.AddSingleton<IOptionsFactory<TOptions>>(new DaemonOptionsFactory<TOptions>(configuration, bind));
        services.AddOptions<TOptions>().ValidateOnStart();

        // The service manager bounds the stop (TimeoutStopSec); the host must not dispose the
        // platform under a teardown that is still releasing routes and channels.
        services.Configure<HostOptions>(o => o.ShutdownTimeout = Timeout.InfiniteTimeSpan);

        Builder.Logging.ClearProviders();
        DaemonHost.AddConsole(Builder.Logging);
        Builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        services.AddSingleton<IConfigureOptions<LoggerFilterOptions>>(sp =>
            new ConfigureOptions<LoggerFilterOptions>(o => o.MinLevel = sp.GetRequiredService<IOptions<TOptions>>().Value.LogLevel));

        services.AddSingleton(sp => sp.GetRequiredService<ILoggerFactory>().CreateLogger(name));
        services.AddSingleton(sp => new ServiceNotifier(sp.GetRequiredService<ILogger>()));
        services.AddSingleton<IServiceMonitor>(sp => sp.GetRequiredService<ServiceNotifier>());
        services.AddSingleton<DaemonExit>();
        services.AddSingleton(sp => new DaemonServiceContext(
            name,
            sp.GetRequiredService<ILogger>(),
            sp.GetRequiredService<ServiceNotifier>(),
            sp.GetRequiredService<DaemonExit>(),
            sp.GetRequiredService<IHostApplicationLifetime>()));
        services.AddSingleton<IHostLifetime, DaemonLifetime>();
    }

    /// <summary>Where the daemon adds its hosted services and what they need.</summary>
    public HostApplicationBuilder Builder { get; }

    /// <summary>
    /// Builds and runs the host until SIGTERM/SIGINT or the end of the daemon's work. A wrong option
    /// throws <see cref="ConfigurationException"/> before anything starts; returns the exit status.
    /// </summary>
    public async Task<int> RunAsync()
    {
        var host = Builder.Build();
        string? pidFile;
        try
        {
            pidFile = host.Services.GetRequiredService<IOptions<TOptions>>().Value.PidFile;
        }
        catch
        {
            host.Dispose();
            throw;
        }

        if (pidFile is not null)
        {
            File.WriteAllText(pidFile, Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
        }

        try
        {
            var exit = host.Services.GetRequiredService<DaemonExit>();
            await host.RunAsync().ConfigureAwait(false);
            return exit.Code;
        }
        finally
        {
            if (pidFile is not null)
            {
                File.Delete(pidFile);
            }
        }
    }
}
