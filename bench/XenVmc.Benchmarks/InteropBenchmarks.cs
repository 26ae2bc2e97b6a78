using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using XenVmc.Linux;
using XenVmc.Linux.Interop;
using TmdsLibC = Tmds.Linux.LibC;
using TmdsPollFd = Tmds.Linux.pollfd;

namespace XenVmc.Benchmarks;

/// <summary>
/// The same system calls through our <c>LibraryImport</c> declarations (SafeHandle descriptors,
/// errno kept) and through Tmds.LibC 0.5.0 (int descriptors, <c>DllImport</c>): an 8-byte
/// write and read on a non-blocking eventfd, and poll(2) with timeout 0 on it.
/// </summary>
public unsafe partial class InteropBenchmarks : IDisposable
{
    private SafeFileDescriptor _eventFd = null!;
    private int _fd;

    [GlobalSetup]
    public void Setup()
    {
        _fd = Libc.EventFd(0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC);
        _eventFd = new SafeFileDescriptor(_fd, ownsHandle: true);
    }

    [Benchmark(Baseline = true)]
    public long WriteReadOurs()
    {
        ulong value = 1;
        nint written = Libc.Write(_eventFd, (byte*)&value, sizeof(ulong));
        return written + Libc.Read(_eventFd, (byte*)&value, sizeof(ulong));
    }

    [Benchmark]
    public long WriteReadTmds()
    {
        ulong value = 1;
        long written = TmdsLibC.write(_fd, &value, sizeof(ulong));
        return written + TmdsLibC.read(_fd, &value, sizeof(ulong));
    }

    [Benchmark]
    public int PollOurs()
    {
        var fds = new Libc.pollfd { fd = _eventFd.DangerousFd, events = 1 };
        return Libc.DangerousPoll(&fds, 1, 0);
    }

    [Benchmark]
    public int PollTmds()
    {
        var fds = new TmdsPollFd { fd = _fd, events = 1 };
        return TmdsLibC.poll(&fds, 1, 0);
    }

    /// <summary>Our declaration's shape without SetLastError, to separate the cost of keeping errno from the rest.</summary>
    [Benchmark]
    public int PollOursWithoutErrno()
    {
        var fds = new Libc.pollfd { fd = _fd, events = 1 };
        return PollWithoutErrno(&fds, 1, 0);
    }

    [LibraryImport("libc", EntryPoint = "poll")]
    private static partial int PollWithoutErrno(Libc.pollfd* fds, nuint nfds, int timeout);

    [GlobalCleanup]
    public void Dispose()
    {
        _eventFd.Dispose();
        GC.SuppressFinalize(this);
    }
}
