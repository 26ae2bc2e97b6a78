using System.Threading.Channels;

namespace XenVmc.XenStore;

/// <summary>
/// A registered XenStore watch. <see cref="Events"/> yields the path of every event in arrival order,
/// starting with the one xenstored fires at registration; it completes when the client is disposed,
/// and faults with a <see cref="XenStoreConnectionException"/> when the connection is lost.
/// </summary>
public sealed class XsWatch : IAsyncDisposable
{
    private readonly XenStoreClient _client;
    private readonly Channel<string> _events = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleWriter = true });
    private int _disposed;

    internal XsWatch(XenStoreClient client, string path, string token)
    {
        _client = client;
        Path = path;
        Token = token;
    }

    public string Path { get; }

    public string Token { get; }

    public ChannelReader<string> Events => _events.Reader;

    /// <summary>Sends UNWATCH; a connection that is already gone (or a watch the server already dropped) is not an error.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await _client.UnwatchAsync(this).ConfigureAwait(false);
        }
        finally
        {
            Complete(null);
        }
    }

    internal void Post(string path) => _events.Writer.TryWrite(path);

    internal void Complete(Exception? failure) => _events.Writer.TryComplete(failure);
}
