namespace XenVmc.Tests.Support;

/// <summary>
/// A test class whose every test gets its own simulated host (in-process xenstored and
/// hypervisor) with <paramref name="domains"/> created, and a token that gives up after
/// <paramref name="timeout"/>; both are disposed after the test.
/// </summary>
public abstract class SimHostTests(TimeSpan timeout, params ushort[] domains) : IAsyncLifetime
{
    private readonly CancellationTokenSource _timeout = new(timeout);

    private protected SimHost Host { get; private set; } = null!;

    protected CancellationToken Ct => _timeout.Token;

    public async Task InitializeAsync()
    {
        Host = await SimHost.StartAsync();
        foreach (ushort domid in domains)
        {
            await Host.CreateDomainAsync(domid, Ct);
        }
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        _timeout.Dispose();
    }
}
