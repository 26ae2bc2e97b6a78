using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using XenVmc.Linux;
using XenVmc.Platform;
using XenVmc.Platform.Simulated;
using XenVmc.Tests.Support;

namespace XenVmc.Tests.Platform.Simulated;

/// <summary>
/// The simulated hypervisor and its client over real SOCK_SEQPACKET sockets: grants are mapped
/// only by the domain they name and only as writable as they were granted; event channels bind
/// only as Xen allows and wake the other side; a domain that goes away ends what it held.
/// </summary>
public sealed class SimHypervisorServerTests : IAsyncLifetime
{
    private const int Page = 4096;
    private const int Eperm = 1;
    private const int Enoent = 2;
    private const int Einval = 22;
    private const int Enosys = 38;

    private readonly TempDirectory _directory = new();
    private readonly SimHypervisorServer _server;
    private readonly List<IDisposable> _owned = [];

    public SimHypervisorServerTests()
    {
        _server = new SimHypervisorServer(_directory.Combine("hv"), _directory.Combine("shm"), NullLogger.Instance);
        _server.AddDomain(1);
        _server.AddDomain(2);
        _server.AddDomain(3);
    }

    private string ShmDirectory => _server.SharedMemoryDirectory;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        for (int i = _owned.Count - 1; i >= 0; i--)
        {
            _owned[i].Dispose();
        }

        await _server.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        _directory.Dispose();
    }

    [Fact]
    public void Grants_PastTheDomainsLimit_FailWithEnospc_UntilPagesAreReleased()
    {
        var d1 = Connect(1);
        Assert.Equal(SimHypervisorServer.DefaultGrantLimit, d1.GrantLimit);
        var first = d1.Share(grantee: 2, pages: 1000, writable: true);
        Own(d1.Share(grantee: 3, pages: 24, writable: true));

        // The limit is per granting domain: domain 2 may still grant.
        Own(Connect(2).Share(grantee: 1, pages: 1, writable: true));
        var refused = Assert.Throws<LinuxException>(() => d1.Share(grantee: 2, pages: 1, writable: true));
        Assert.Equal(28, refused.Errno); // ENOSPC, as gntalloc answers past its limit

        first.Dispose();
        Own(d1.Share(grantee: 2, pages: 1000, writable: true));
    }

    [Fact]
    public void Grant_MappedByTheGrantee_SharesBytesBothWays()
    {
        var d1 = Connect(1);
        var d2 = Connect(2);
        var granted = Own(d1.Share(grantee: 2, pages: 4, writable: true));

        Assert.Equal(4 * Page, granted.Length);
        Assert.Equal(4, granted.References.Count);
        Assert.Equal(4, granted.References.Distinct().Count());
        Writable(granted).Clear(); // the region starts zeroed; clearing it again must not fault
        for (int page = 0; page < 4; page++)
        {
            Writable(granted)[page * Page] = (byte)(0x10 + page);
            Writable(granted)[page * Page + Page - 1] = (byte)(0x20 + page);
        }

        var mapped = Own(d2.Map(granter: 1, [.. granted.References], writable: true));

        Assert.Equal(4 * Page, mapped.Length);
        Assert.NotEqual(granted.Address, mapped.Address);
        for (int page = 0; page < 4; page++)
        {
            Assert.Equal(0x10 + page, Readable(mapped)[page * Page]);
            Assert.Equal(0x20 + page, Readable(mapped)[page * Page + Page - 1]);
        }

        Writable(mapped)[3 * Page + 100] = 0xEE;
        Assert.Equal(0xEE, Readable(granted)[3 * Page + 100]);
        Assert.Equal("rw-s", ProcMaps.PermissionsOf(mapped.Address, mapped.Length));
    }

    [Fact]
    public void Grant_PartialMapOfLaterPages_StartsAtTheRightPage()
    {
        var d1 = Connect(1);
        var d2 = Connect(2);
        var granted = Own(d1.Share(2, 4, writable: true));
        Writable(granted)[2 * Page] = 0xA2;
        Writable(granted)[3 * Page + 5] = 0xA3;

        var mapped = Own(d2.Map(1, [granted.References[2], granted.References[3]], writable: true));

        Assert.Equal(2 * Page, mapped.Length);
        Assert.Equal(0xA2, Readable(mapped)[0]);
        Assert.Equal(0xA3, Readable(mapped)[Page + 5]);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Grant_MappedByAThirdDomain_IsEperm(bool writable)
    {
        var d1 = Connect(1);
        var d3 = Connect(3);
        var granted = Own(d1.Share(2, 4, writable: true));

        var e = Assert.Throws<LinuxException>(() => d3.Map(1, [.. granted.References], writable));

        Assert.Equal(Eperm, e.Errno);
    }

    [Fact]
    public void Grant_OfOwnPagesToAnotherDomain_CannotBeMappedByTheGranterEither()
    {
        var d1 = Connect(1);
        var granted = Own(d1.Share(2, 1, writable: true));

        var e = Assert.Throws<LinuxException>(() => d1.Map(1, [granted.References[0]], writable: false));

        Assert.Equal(Eperm, e.Errno);
    }

    [Fact]
    public void ReadOnlyGrant_MappedWritable_IsEperm()
    {
        var d1 = Connect(1);
        var d2 = Connect(2);
        var granted = Own(d1.Share(2, 2, writable: false));

        var e = Assert.Throws<LinuxException>(() => d2.Map(1, [.. granted.References], writable: true));

        Assert.Equal(Eperm, e.Errno);
    }

    [Fact]
    public void ReadOnlyGrant_MappedReadOnly_SeesTheDataThroughAReadOnlyMapping()
    {
        var d1 = Connect(1);
        var d2 = Connect(2);
        var granted = Own(d1.Share(2, 2, writable: false));
        Writable(granted)[7] = 0x5A;
        Writable(granted)[Page + 9] = 0xA5;

        var mapped = Own(d2.Map(1, [.. granted.References], writable: false));

        Assert.Equal(0x5A, Readable(mapped)[7]);
        Assert.Equal(0xA5, Readable(mapped)[Page + 9]);
        Writable(granted)[8] = 0x77; // later writes by the granter show through
        Assert.Equal(0x77, Readable(mapped)[8]);
        Assert.Equal("r--s", ProcMaps.PermissionsOf(mapped.Address, mapped.Length));
        Assert.Equal("rw-s", ProcMaps.PermissionsOf(granted.Address, granted.Length)); // the granter's own pages stay writable
    }

    [Fact]
    public void Map_RefsThatAreNotConsecutivePagesOfOneGrant_IsEinval()
    {
        var d1 = Connect(1);
        var d2 = Connect(2);
        var first = Own(d1.Share(2, 4, writable: true));
        var second = Own(d1.Share(2, 4, writable: true));
        uint[] refs = [.. first.References];

        uint[][] bad =
        [
            [refs[0], refs[2]],                        // a gap
            [refs[1], refs[0]],                        // backwards
            [refs[0], refs[0]],                        // repeated
            [refs[2], refs[3], second.References[0]],  // runs off the end of its grant into the next one
        ];
        foreach (uint[] attempt in bad)
        {
            var e = Assert.Throws<LinuxException>(() => d2.Map(1, attempt, writable: true));
            Assert.True(e.Errno == Einval, $"refs [{string.Join(' ', attempt)}]: errno {e.Errno}, expected EINVAL");
        }

        Assert.Equal(Einval, Assert.Throws<LinuxException>(() => d2.Map(1, [], writable: true)).Errno);
    }

    [Fact]
    public void Map_UnknownRefOrWrongGranter_IsEnoent()
    {
        var d1 = Connect(1);
        var d2 = Connect(2);
        var granted = Own(d1.Share(2, 1, writable: true));

        Assert.Equal(Enoent, Assert.Throws<LinuxException>(() => d2.Map(1, [granted.References[0] + 1000], writable: true)).Errno);
        Assert.Equal(Enoent, Assert.Throws<LinuxException>(() => d2.Map(3, [granted.References[0]], writable: true)).Errno);
    }

    [Fact]
    public void Map_AfterTheGranterEndedTheGrant_IsEnoent_ButAnExistingMappingStays()
    {
        var d1 = Connect(1);
        var d2 = Connect(2);
        var granted = d1.Share(2, 2, writable: true);
        uint[] refs = [.. granted.References];
        var earlier = Own(d2.Map(1, refs, writable: true));
        Writable(granted)[1] = 0x42;

        granted.Dispose();

        var e = Assert.Throws<LinuxException>(() => d2.Map(1, refs, writable: true));
        Assert.Equal(Enoent, e.Errno);
        Assert.Equal(0x42, Readable(earlier)[1]); // as in Xen: ending a grant does not yank a live mapping
        Writable(earlier)[2] = 0x43;
        Assert.Equal(0x43, Readable(earlier)[2]);
    }

    [Fact]
    public void GrantedPages_AreFilesOnlyTheOwnerCanOpen_RemovedWhenTheGrantEnds()
    {
        var d1 = Connect(1);
        Assert.Empty(Directory.GetFiles(ShmDirectory));

        var granted = d1.Share(2, 3, writable: false);

        string file = Assert.Single(Directory.GetFiles(ShmDirectory));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.Equal(3 * Page, new FileInfo(file).Length);

        granted.Dispose();

        Assert.Empty(Directory.GetFiles(ShmDirectory));
    }

    [Fact]
    public async Task GrantedPages_AreRemovedWhenTheGranterDisconnects()
    {
        var d1 = SimHypervisorClient.Connect(SimHypervisorServer.SocketPath(_server.SocketDirectory, 1));
        var granted = d1.Share(2, 1, writable: true);
        Assert.Single(Directory.GetFiles(ShmDirectory));

        d1.Dispose(); // the daemon died without ending its grants

        await Eventually.AssertAsync(() => Directory.GetFiles(ShmDirectory).Length == 0, TimeSpan.FromSeconds(2), "the grant's file is removed");
        var d2 = Connect(2);
        Assert.Equal(Enoent, Assert.Throws<LinuxException>(() => d2.Map(1, [granted.References[0]], writable: true)).Errno);
        granted.Dispose(); // unmaps; ending the grant again finds the connection closed and is quiet about it
    }

    [Fact]
    public void EventChannel_NotifyEachWay_WakesTheOtherSide()
    {
        var (p1, p2) = BindPair();

        Assert.False(p2.Wait(50), "nothing pending before a notify");
        p1.Notify();
        Assert.True(p2.Wait(2000), "domain 2 is woken by domain 1's notify");
        Assert.False(p2.TryConsume(), "the wait consumed the event");
        Assert.False(p1.TryConsume(), "a notify does not signal the notifier");

        p2.Notify();
        Assert.True(p1.Wait(2000), "domain 1 is woken by domain 2's notify");
        Assert.False(p1.Wait(20));
    }

    [Fact]
    public void EventChannel_ManyNotifies_CoalesceIntoOnePendingEvent()
    {
        var (p1, p2) = BindPair();

        for (int i = 0; i < 100; i++)
        {
            p1.Notify();
        }

        Assert.True(p2.Wait(2000));
        Assert.False(p2.TryConsume());
        Assert.False(p2.Wait(50));
    }

    [Fact]
    public void EventChannel_WaitHandle_IsPollableWhilePending()
    {
        var (p1, p2) = BindPair();
        Span<PollEntry> entries = [new PollEntry(p2.WaitHandle, Poll.POLLIN)];
        Span<short> revents = stackalloc short[1];

        Assert.Equal(0, Poll.Wait(entries, revents, 0));
        p1.Notify();
        Assert.Equal(1, Poll.Wait(entries, revents, 2000));
        Assert.True(p2.TryConsume());
        Assert.Equal(0, Poll.Wait(entries, revents, 0));
    }

    [Fact]
    public void EventChannel_BindFromTheWrongDomain_IsEinval()
    {
        var d1 = Connect(1);
        var d2 = Connect(2);
        var d3 = Connect(3);
        var unbound = Own(d1.BindUnbound(2));

        Assert.Equal(Einval, Assert.Throws<LinuxException>(() => d3.BindInterdomain(1, unbound.LocalPort)).Errno);
        Assert.Equal(Einval, Assert.Throws<LinuxException>(() => d2.BindInterdomain(1, unbound.LocalPort + 100)).Errno);
        Assert.Equal(Einval, Assert.Throws<LinuxException>(() => d2.BindInterdomain(3, unbound.LocalPort)).Errno);

        // The refusals left the port free for the domain it was reserved for, once.
        Own(d2.BindInterdomain(1, unbound.LocalPort));
        Assert.Equal(Einval, Assert.Throws<LinuxException>(() => d2.BindInterdomain(1, unbound.LocalPort)).Errno);
    }

    [Fact]
    public void RemoveDomain_CutsItsConnection_EndsItsGrants_AndSignalsItsPeers()
    {
        var d1 = Connect(1);
        var d2 = Connect(2);
        var (_, p2) = BindPair(d1, d2);
        var granted = Own(d1.Share(2, 1, writable: true));
        Assert.False(p2.TryConsume());

        _server.RemoveDomain(1);

        Assert.True(p2.Wait(2000), "domain 2's port gets an event when domain 1 goes");
        Assert.DoesNotContain((ushort)1, _server.Domains);
        Assert.False(File.Exists(SimHypervisorServer.SocketPath(_server.SocketDirectory, 1)));
        var cut = Assert.ThrowsAny<IOException>(() => d1.Share(2, 1, writable: true));
        Assert.IsNotType<LinuxException>(cut); // not a refusal: the line is dead
        Assert.Throws<IOException>(() => SimHypervisorClient.Connect(SimHypervisorServer.SocketPath(_server.SocketDirectory, 1)));
        Assert.Equal(Enoent, Assert.Throws<LinuxException>(() => d2.Map(1, [granted.References[0]], writable: true)).Errno);
        Assert.Empty(Directory.GetFiles(ShmDirectory));
    }

    [Fact]
    public void PeerUnbinding_SignalsTheOtherEnd()
    {
        var d1 = Connect(1);
        var d2 = Connect(2);
        var p1 = d1.BindUnbound(2);
        var p2 = Own(d2.BindInterdomain(1, p1.LocalPort));

        p1.Dispose();

        Assert.True(p2.Wait(2000), "closing a bound port sends the peer one last event");
    }

    [Fact]
    public void MalformedRequests_AreEinval_AndTheConnectionKeepsWorking()
    {
        using var raw = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        raw.Connect(new UnixDomainSocketEndPoint(SimHypervisorServer.SocketPath(_server.SocketDirectory, 3)));
        raw.ReceiveTimeout = 5000;

        byte[] shortHeader = [1, 2, 3];
        Assert.Equal(Einval, Call(raw, shortHeader, out _));

        byte[] countWithoutRefs = new byte[SimHypercall.RequestHeaderSize];
        SimHypercall.WriteRequest(countWithoutRefs, SimHypercall.Op.GrantMap, 1, 0, 0, []);
        countWithoutRefs[16] = 5; // claims five refs, carries none
        Assert.Equal(Einval, Call(raw, countWithoutRefs, out _));

        byte[] hugeCount = new byte[SimHypercall.RequestHeaderSize + 8];
        SimHypercall.WriteRequest(hugeCount, SimHypercall.Op.GrantMap, 1, 0, 0, [8, 9]);
        BitConverter.TryWriteBytes(hugeCount.AsSpan(16), uint.MaxValue);
        Assert.Equal(Einval, Call(raw, hugeCount, out _));

        byte[] unknownOp = new byte[SimHypercall.RequestHeaderSize];
        SimHypercall.WriteRequest(unknownOp, (SimHypercall.Op)99, 0, 0, 0, []);
        Assert.Equal(Enosys, Call(raw, unknownOp, out _));

        byte[] reservedDomain = new byte[SimHypercall.RequestHeaderSize];
        SimHypercall.WriteRequest(reservedDomain, SimHypercall.Op.GrantAlloc, 0x7FF0, 1, 1, []);
        Assert.Equal(Einval, Call(raw, reservedDomain, out _));

        byte[] random = new byte[200];
        new Random(7).NextBytes(random);
        int randomErrno = Call(raw, random, out _);
        Assert.NotEqual(0, randomErrno);

        // Still served: a good request on the same connection works.
        byte[] bind = new byte[SimHypercall.RequestHeaderSize];
        SimHypercall.WriteRequest(bind, SimHypercall.Op.EventBindUnbound, 1, 0, 0, []);
        Assert.Equal(0, Call(raw, bind, out int fds));
        Assert.Equal(2, fds);
    }

    [Fact]
    public void OversizedRequest_IsEinval_AndTheConnectionKeepsWorking()
    {
        using var raw = new Socket(AddressFamily.Unix, SocketType.Seqpacket, ProtocolType.Unspecified);
        raw.Connect(new UnixDomainSocketEndPoint(SimHypervisorServer.SocketPath(_server.SocketDirectory, 3)));
        raw.ReceiveTimeout = 5000;

        byte[] oversized = new byte[SimHypercall.MaxMessage + 512];
        SimHypercall.WriteRequest(oversized, SimHypercall.Op.GrantMap, 1, 0, 0, []);
        Assert.Equal(Einval, Call(raw, oversized, out _));

        byte[] bind = new byte[SimHypercall.RequestHeaderSize];
        SimHypercall.WriteRequest(bind, SimHypercall.Op.EventBindUnbound, 1, 0, 0, []);
        Assert.Equal(0, Call(raw, bind, out int fds));
        Assert.Equal(2, fds);
    }

    [Fact]
    public void Share_ArgumentsOutOfRange_AreRefusedBeforeAnyRequest()
    {
        var d1 = Connect(1);

        Assert.Throws<ArgumentOutOfRangeException>(() => d1.Share(2, 0, writable: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => d1.Share(2, SimHypercall.MaxRefs + 1, writable: true));
        Assert.Equal(Einval, Assert.Throws<LinuxException>(() => d1.Share(0x7FF0, 1, writable: true)).Errno);
        Assert.Empty(Directory.GetFiles(ShmDirectory));
    }

    [Fact]
    public async Task ClearOnUnmap_ByTheGranter_ClearsItsByteWhenItsConnectionDies()
    {
        var d1 = Connect(1);
        var d2 = Connect(2);
        var granted = Own(d1.Share(grantee: 2, pages: 2, writable: true));
        Writable(granted)[Page + 7] = 1;
        Writable(granted)[Page + 8] = 1;
        granted.ClearOnUnmap(Page + 7);
        var mapped = Own(d2.Map(granter: 1, [.. granted.References], writable: true));

        // SIGKILL closes every descriptor the process had: here, its hypervisor connection.
        d1.Dispose();

        Assert.True(await Eventually.TrueAsync(() => Readable(mapped)[Page + 7] == 0, TimeSpan.FromSeconds(2)), "the byte was not cleared");
        Assert.Equal(1, Readable(mapped)[Page + 8]);
    }

    [Fact]
    public async Task ClearOnUnmap_ByAWritableMapper_ClearsItsByteOnUnmap_AndOnDeath()
    {
        var d1 = Connect(1);
        var granted = Own(d1.Share(grantee: 2, pages: 1, writable: true));
        Writable(granted)[10] = 1;
        Writable(granted)[20] = 1;

        var d2 = Connect(2);
        var first = d2.Map(granter: 1, [.. granted.References], writable: true);
        first.ClearOnUnmap(10);
        Assert.Equal(1, Readable(granted)[10]);
        first.Dispose();
        Assert.Equal(0, Readable(granted)[10]);

        var d2Again = Connect(2);
        var second = Own(d2Again.Map(granter: 1, [.. granted.References], writable: true));
        second.ClearOnUnmap(20);
        d2Again.Dispose();
        Assert.True(await Eventually.TrueAsync(() => Readable(granted)[20] == 0, TimeSpan.FromSeconds(2)), "the byte was not cleared when the mapper died");
    }

    [Fact]
    public void ClearOnUnmap_OfAReadOnlyMapping_IsEperm_AndOutOfRangeIsRefused()
    {
        var d1 = Connect(1);
        var d2 = Connect(2);
        var granted = Own(d1.Share(grantee: 2, pages: 1, writable: false));
        var mapped = Own(d2.Map(granter: 1, [.. granted.References], writable: false));

        Assert.Equal(Eperm, Assert.Throws<LinuxException>(() => mapped.ClearOnUnmap(0)).Errno);
        Assert.Throws<ArgumentOutOfRangeException>(() => granted.ClearOnUnmap(Page));
        Assert.Throws<ArgumentOutOfRangeException>(() => granted.ClearOnUnmap(-1));
    }

    private (IEventPort Low, IEventPort High) BindPair() => BindPair(Connect(1), Connect(2));

    private (IEventPort Low, IEventPort High) BindPair(SimHypervisorClient d1, SimHypervisorClient d2)
    {
        var p1 = Own(d1.BindUnbound(2));
        var p2 = Own(d2.BindInterdomain(1, p1.LocalPort));
        return (p1, p2);
    }

    /// <summary>Sends one raw request and returns the reply's errno; descriptors in the reply are counted and closed.</summary>
    private static int Call(Socket socket, byte[] request, out int fdCount)
    {
        socket.Send(request);
        byte[] reply = new byte[SimHypercall.MaxMessage];
        var fds = new List<SafeFileDescriptor>();
        int length = UnixFdPassing.Receive(socket, reply, fds);
        fdCount = fds.Count;
        fds.ForEach(fd => fd.Dispose());
        Assert.True(length > 0, "the hypervisor closed the connection instead of answering");
        Span<uint> refs = stackalloc uint[SimHypercall.MaxRefs];
        Assert.True(SimHypercall.TryReadReply(reply.AsSpan(0, length), out int errno, out _, out _, refs, out _), "malformed reply");
        return errno;
    }

    private SimHypervisorClient Connect(ushort domid) => Own(SimHypervisorClient.Connect(SimHypervisorServer.SocketPath(_server.SocketDirectory, domid)));

    private T Own<T>(T resource)
        where T : IDisposable
    {
        _owned.Add(resource);
        return resource;
    }

    private static unsafe Span<byte> Writable(ISharedRegion region) => new((void*)region.Address, region.Length);

    private static unsafe ReadOnlySpan<byte> Readable(ISharedRegion region) => new((void*)region.Address, region.Length);
}
