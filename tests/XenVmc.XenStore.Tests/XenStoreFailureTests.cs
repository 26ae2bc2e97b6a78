using System.Net.Sockets;
using System.Threading.Channels;

namespace XenVmc.XenStore.Tests;

/// <summary>
/// The client's error contract: every way the store can make a call fail is a
/// <see cref="XenStoreFailure"/>, and nothing a caller does wrong is.
/// </summary>
public sealed class XenStoreFailureTests
{
    public static TheoryData<Exception> CallerBugsAndOtherTrouble =>
    [
        new ArgumentException("bad path"),
        new ArgumentNullException("path"),
        new InvalidOperationException("Release the records read before sleeping."),
        new ObjectDisposedException("MappedMemory"),
        new OperationCanceledException(),
        new ChannelClosedException(),
        new IOException("a TUN write failed"),
        new SocketException((int)SocketError.ConnectionReset),
        new TimeoutException(),
    ];

    [Theory]
    [MemberData(nameof(CallerBugsAndOtherTrouble))]
    public void Nothing_but_the_store_counts(Exception e)
    {
        Assert.False(XenStoreFailure.Is(e));
        Assert.False(XenStoreFailure.IsConnectionLoss(e));
    }

    [Fact]
    public void A_protocol_violation_is_a_lost_connection()
    {
        var e = new XsProtocolException("oversized frame");
        Assert.True(XenStoreFailure.IsConnectionLoss(e));
        Assert.True(XenStoreFailure.Is(e));
        Assert.IsAssignableFrom<IOException>(e);
    }

    [Fact]
    public async Task An_error_reply_is_store_trouble_but_the_connection_stays()
    {
        await using TestStore store = await TestStore.StartAsync();
        XenStoreClient c = store.Dom0();
        var e = await Assert.ThrowsAsync<XenStoreException>(() => c.ReadAsync("/absent"));
        Assert.True(XenStoreFailure.Is(e));
        Assert.False(XenStoreFailure.IsConnectionLoss(e));
        await c.WriteAsync("/present", "1");
        Assert.False(c.Closed.IsCompleted);
    }

    [Fact]
    public async Task A_lost_connection_fails_the_pending_call_the_next_call_and_Closed_alike()
    {
        await using var server = new FakeXenStored();
        await using XenStoreClient client = await server.ConnectAsync();
        Task<byte[]> pending = client.ReadAsync("/a");
        await server.ReceiveFrameAsync();
        server.Peer.Shutdown(SocketShutdown.Both);

        var e = await Assert.ThrowsAsync<XenStoreConnectionException>(() => pending.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(XenStoreFailure.IsConnectionLoss(e));
        await Assert.ThrowsAsync<XenStoreConnectionException>(() => client.Closed.WaitAsync(TimeSpan.FromSeconds(10)));
        await Assert.ThrowsAsync<XenStoreConnectionException>(() => client.ReadAsync("/b"));
    }

    [Fact]
    public async Task A_disposed_client_is_a_closed_connection()
    {
        await using TestStore store = await TestStore.StartAsync();
        XenStoreClient c = XenStoreClient.ConnectSocket(store.SocketPath);
        await c.DisposeAsync();
        var e = await Assert.ThrowsAsync<XenStoreConnectionException>(() => c.WriteAsync("/x", "1"));
        Assert.True(XenStoreFailure.IsConnectionLoss(e));
    }

    [Fact]
    public void No_store_to_connect_to_is_a_connection_failure()
    {
        string path = Path.Combine(Path.GetTempPath(), "xs-none-" + Guid.NewGuid().ToString("N"));
        Assert.True(XenStoreFailure.IsConnectionLoss(Assert.Throws<XenStoreConnectionException>(() => XenStoreClient.ConnectSocket(path))));
        Assert.True(XenStoreFailure.IsConnectionLoss(Assert.Throws<XenStoreConnectionException>(() => XenStoreClient.OpenXenbus(path))));
    }

    [Fact]
    public async Task A_caller_bug_propagates_as_itself_and_leaves_the_connection_up()
    {
        await using TestStore store = await TestStore.StartAsync();
        XenStoreClient c = store.Dom0();
        var e = await Assert.ThrowsAnyAsync<ArgumentException>(() => c.WriteAsync("/nul\0inside", "1"));
        Assert.False(XenStoreFailure.Is(e));
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var oce = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => c.ReadAsync("/x", default, cancelled.Token));
        Assert.False(XenStoreFailure.Is(oce));
        await c.WriteAsync("/still", "up");
        Assert.False(c.Closed.IsCompleted);
    }
}
