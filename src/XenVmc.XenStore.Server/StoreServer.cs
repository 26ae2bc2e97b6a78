using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using XenVmc.XenStore.Server.Connections;
using XenVmc.XenStore.Server.Engine;

namespace XenVmc.XenStore.Server;

/// <summary>
/// A simulated xenstored speaking the real wire protocol: Dom0 on <see cref="StoreOptions.SocketPath"/>
/// (usable by xenstore-read and friends through <c>XENSTORED_PATH</c>), domain N on
/// <c>&lt;DomainSocketDirectory&gt;/N</c> from XS_INTRODUCE to XS_RELEASE.
/// </summary>
public sealed class StoreServer : IAsyncDisposable
{
    private readonly StoreEngine _engine;
    private readonly SocketListener _listener;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string? _createdDomainDirectory;
    private int _disposed;

    private StoreServer(StoreEngine engine, SocketListener listener, string? createdDomainDirectory)
    {
        _engine = engine;
        _listener = listener;
        _createdDomainDirectory = createdDomainDirectory;
        _ = WatchListenerAsync();
    }

    /// <summary>Completes when the server has stopped: after <see cref="DisposeAsync"/>, or faulted if accepting failed.</summary>
    public Task Completion => _completion.Task;

    /// <summary>Creates the socket (replacing a stale one) and the domain socket directory, and starts serving.</summary>
    public static Task<StoreServer> StartAsync(StoreOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(options.SocketPath);
        logger ??= NullLogger.Instance;

        string? socketDirectory = Path.GetDirectoryName(Path.GetFullPath(options.SocketPath));
        if (!string.IsNullOrEmpty(socketDirectory))
        {
            Directory.CreateDirectory(socketDirectory);
        }

        string? created = Directory.Exists(options.DomainSocketDirectory) ? null : options.DomainSocketDirectory;
        Directory.CreateDirectory(options.DomainSocketDirectory);
        var engine = new StoreEngine(options, logger);
        var listener = SocketListener.Start(options.SocketPath, 0, engine.Accept, logger);
        Log.Listening(logger, options.SocketPath, options.DomainSocketDirectory);
        return Task.FromResult(new StoreServer(engine, listener, created));
    }

    /// <summary>Stops accepting, closes every connection, removes every socket it created.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            await _completion.Task.ConfigureAwait(false);
            return;
        }

        _listener.Stop();
        await _engine.StopAsync().ConfigureAwait(false);
        RemoveDomainDirectory();
        _completion.TrySetResult();
    }

    /// <summary>The domain socket directory goes too if this server made it and nothing else is in it.</summary>
    private void RemoveDomainDirectory()
    {
        if (_createdDomainDirectory is not null && Directory.Exists(_createdDomainDirectory) &&
            !Directory.EnumerateFileSystemEntries(_createdDomainDirectory).Any())
        {
            Directory.Delete(_createdDomainDirectory);
        }
    }

    private async Task WatchListenerAsync()
    {
        try
        {
            await _listener.Completion.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _completion.TrySetException(e);
        }
    }
}
