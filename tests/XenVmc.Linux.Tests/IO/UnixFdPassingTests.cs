using System.Net.Sockets;
using XenVmc.Linux.Interop;
using Xunit;

namespace XenVmc.Linux.Tests;

public sealed class UnixFdPassingTests : IDisposable
{
    private readonly string _path = $"/dev/shm/xenvmc-test-{Guid.NewGuid():N}";

    public void Dispose() => File.Delete(_path);

    [Theory]
    [InlineData(SocketType.Stream)]
    [InlineData(SocketType.Seqpacket)]
    public void EventFdAndShmFd_WorkOnTheOtherSide(SocketType type)
    {
        (Socket sender, Socket receiver) = UnixFdPassing.CreatePair(type);
        using (sender)
        using (receiver)
        using (EventFd eventFd = EventFd.Create(nonBlocking: true))
        using (SafeFileDescriptor shm = SharedMemoryFile.Create(_path, 4096))
        using (MappedMemory senderView = MappedMemory.Map(shm, 0, 4096, writable: true))
        {
            UnixFdPassing.Send(sender, "grant"u8, [eventFd.Handle, shm]);
            var fds = new List<SafeFileDescriptor>();
            var data = new byte[16];

            int n = UnixFdPassing.Receive(receiver, data, fds);

            Assert.Equal("grant"u8.ToArray(), data[..n]);
            Assert.Equal(2, fds.Count);
            Assert.All(fds, fd => Assert.NotEqual(eventFd.Handle.DangerousFd, fd.DangerousFd));
            using EventFd received = EventFd.FromHandle(fds[0]);
            using MappedMemory receiverView = MappedMemory.Map(fds[1], 0, 4096, writable: true);
            eventFd.Signal(5);
            Assert.Equal(5ul, received.Consume());
            received.Signal(2);
            Assert.Equal(2ul, eventFd.Consume());
            senderView.Span[100] = 0x5A;
            Assert.Equal(0x5A, receiverView.ReadOnlySpan[100]);
            fds[1].Dispose();
        }
    }

    [Fact]
    public void ReceivedDescriptors_AreCloseOnExec()
    {
        (Socket sender, Socket receiver) = UnixFdPassing.CreatePair(SocketType.Stream);
        using (sender)
        using (receiver)
        using (EventFd eventFd = EventFd.Create())
        {
            UnixFdPassing.Send(sender, [1], [eventFd.Handle]);
            var fds = new List<SafeFileDescriptor>();
            UnixFdPassing.Receive(receiver, new byte[1], fds);
            using SafeFileDescriptor fd = Assert.Single(fds);

            string flags = File.ReadLines($"/proc/self/fdinfo/{fd.DangerousFd}").Single(l => l.StartsWith("flags:", StringComparison.Ordinal));
            Assert.NotEqual(0, Convert.ToInt32(flags["flags:".Length..].Trim(), 8) & 0x80000);
        }
    }

    [Theory]
    [InlineData(1, 2)] // the control buffer rounds up to room for 2: we must close the second
    [InlineData(2, 4)] // the kernel truncates (MSG_CTRUNC) and drops the rest itself
    public void DescriptorsBeyondWhatTheCallerExpects_AreClosed(int maxFds, int sent)
    {
        (Socket sender, Socket receiver) = UnixFdPassing.CreatePair(SocketType.Seqpacket);
        using (sender)
        using (receiver)
        using (EventFd eventFd = EventFd.Create())
        {
            (SafeFileDescriptor readEnd, SafeFileDescriptor writeEnd) = Pipe();
            using (readEnd)
            {
                // All extra slots carry the pipe's write end: once every copy is closed, the read end hangs up.
                SafeFileDescriptor[] fds = [eventFd.Handle, .. Enumerable.Repeat(writeEnd, sent - 1)];
                UnixFdPassing.Send(sender, [1], fds);
                writeEnd.Dispose();
                var received = new List<SafeFileDescriptor>();

                UnixFdPassing.Receive(receiver, new byte[1], received, maxFds);

                Assert.Equal(maxFds, received.Count);
                received[0].Dispose();
                foreach (SafeFileDescriptor keptWriteEnd in received.Skip(1))
                {
                    keptWriteEnd.Dispose();
                }

                var revents = new short[1];
                Assert.Equal(1, Poll.Wait([new PollEntry(readEnd, Poll.POLLIN)], revents, 5000));
                Assert.Equal(Poll.POLLHUP, revents[0] & Poll.POLLHUP);
            }
        }
    }

    [Fact]
    public void SeqpacketMessageLargerThanBuffer_IsEmsgsize_AndItsDescriptorsAreClosed()
    {
        (Socket sender, Socket receiver) = UnixFdPassing.CreatePair(SocketType.Seqpacket);
        using (sender)
        using (receiver)
        {
            (SafeFileDescriptor readEnd, SafeFileDescriptor writeEnd) = Pipe();
            using (readEnd)
            {
                UnixFdPassing.Send(sender, new byte[100], [writeEnd]);
                writeEnd.Dispose();
                var received = new List<SafeFileDescriptor>();

                var e = Assert.Throws<LinuxException>(() => UnixFdPassing.Receive(receiver, new byte[10], received));

                Assert.Equal("EMSGSIZE", e.ErrnoName);
                Assert.Empty(received);
                var revents = new short[1];
                Assert.Equal(1, Poll.Wait([new PollEntry(readEnd, Poll.POLLIN)], revents, 5000));
                Assert.Equal(Poll.POLLHUP, revents[0] & Poll.POLLHUP);
            }
        }
    }

    [Fact]
    public void DataWithoutDescriptors_AndPeerClose()
    {
        (Socket sender, Socket receiver) = UnixFdPassing.CreatePair(SocketType.Stream);
        using (receiver)
        {
            UnixFdPassing.Send(sender, "plain"u8, []);
            sender.Dispose();
            var fds = new List<SafeFileDescriptor>();
            var data = new byte[16];

            Assert.Equal(5, UnixFdPassing.Receive(receiver, data, fds));
            Assert.Empty(fds);
            Assert.Equal(0, UnixFdPassing.Receive(receiver, data, fds));
        }
    }

    [Fact]
    public void Receive_WaitsForTheSender_EvenOnANonBlockingSocket()
    {
        (Socket sender, Socket receiver) = UnixFdPassing.CreatePair(SocketType.Stream);
        using (sender)
        using (receiver)
        using (EventFd eventFd = EventFd.Create())
        {
            receiver.Blocking = false;
            var fds = new List<SafeFileDescriptor>();
            int n = -1;
            var thread = new Thread(() => n = UnixFdPassing.Receive(receiver, new byte[4], fds)) { IsBackground = true };
            thread.Start();
            Thread.Sleep(50);

            UnixFdPassing.Send(sender, [7], [eventFd.Handle]);

            Assert.True(thread.Join(5000));
            Assert.Equal(1, n);
            Assert.Single(fds).Dispose();
        }
    }

    [Fact]
    public void LargeStreamMessage_IsSentInPieces_WithTheDescriptorsOnTheFirst()
    {
        (Socket sender, Socket receiver) = UnixFdPassing.CreatePair(SocketType.Stream);
        using (sender)
        using (receiver)
        using (EventFd eventFd = EventFd.Create(nonBlocking: true))
        {
            var data = new byte[4 << 20]; // far more than the socket buffer: sendmsg takes it in parts
            new Random(7).NextBytes(data);
            Exception? failure = null;
            var thread = new Thread(() =>
            {
                try
                {
                    UnixFdPassing.Send(sender, data, [eventFd.Handle]);
                }
                catch (Exception e)
                {
                    failure = e;
                }
            })
            { IsBackground = true };
            thread.Start();

            var received = new byte[data.Length];
            var fds = new List<SafeFileDescriptor>();
            int total = 0;
            while (total < data.Length)
            {
                int n = UnixFdPassing.Receive(receiver, received.AsSpan(total), fds);
                Assert.NotEqual(0, n);
                total += n;
            }

            Assert.True(thread.Join(5000));
            Assert.Null(failure);
            Assert.Equal(data, received);
            using EventFd passed = EventFd.FromHandle(Assert.Single(fds));
            passed.Signal(3);
            Assert.Equal(3ul, eventFd.Consume());
        }
    }

    [Fact]
    public void Send_EmptyData_IsRefused()
    {
        (Socket sender, Socket receiver) = UnixFdPassing.CreatePair(SocketType.Stream);
        using (sender)
        using (receiver)
        using (EventFd eventFd = EventFd.Create())
        {
            Assert.Throws<ArgumentException>(() => UnixFdPassing.Send(sender, [], [eventFd.Handle]));
        }
    }

    private static unsafe (SafeFileDescriptor ReadEnd, SafeFileDescriptor WriteEnd) Pipe()
    {
        int* fds = stackalloc int[2];
        Assert.Equal(0, Libc.Pipe2(fds, Libc.O_CLOEXEC));
        return (new SafeFileDescriptor(fds[0], ownsHandle: true), new SafeFileDescriptor(fds[1], ownsHandle: true));
    }
}
