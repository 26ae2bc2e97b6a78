using System.Buffers.Binary;
using System.Text;
using XenVmc.Rings;
using XenVmc.Rings.Tests;
using Xunit.Abstractions;

namespace XenVmc.Fuzz.Tests;

/// <summary>
/// The ring consumer against arbitrary shared memory: the input is what a hostile producer
/// controls (the published cons we start from, two successive prod values, the whole data
/// window). The consumer reads through a read-only mapping fenced by guard pages (a stray read
/// kills the run), never throws, hands out only spans inside the window, and returns exactly
/// the records a plain reference reading of the layout rules returns.
/// </summary>
public sealed class RingFuzzTests(ITestOutputHelper output)
{
    internal const int SizeLog2 = 12;
    private const int Size = 1 << SizeLog2;
    private const int Max = Size / 4;
    private const int Prefix = 12;

    [Fact]
    public void ConsumerAgainstArbitrarySharedMemory()
    {
        using var channel = new TestChannel(SizeLog2, SizeLog2);
        var loop = new FuzzLoop("ring", output, maxLength: Prefix + Size);
        loop.Run(Seeds(), input => Execute(channel, input));
        Assert.True(loop.Signatures > 20, $"only {loop.Signatures} behaviours");
    }

    internal static string Execute(TestChannel channel, byte[] input)
    {
        Span<byte> prefix = stackalloc byte[Prefix];
        input.AsSpan(0, Math.Min(Prefix, input.Length)).CopyTo(prefix);
        uint cons = BinaryPrimitives.ReadUInt32LittleEndian(prefix);
        uint prod1 = BinaryPrimitives.ReadUInt32LittleEndian(prefix[4..]);
        uint prod2 = BinaryPrimitives.ReadUInt32LittleEndian(prefix[8..]);
        byte[] data = new byte[Size];
        ReadOnlySpan<byte> body = input.Length > Prefix ? input.AsSpan(Prefix) : [];
        for (int i = 0; i < body.Length; i++)
        {
            data[(int)((cons + (uint)i) & (Size - 1))] = body[i];
        }

        data.CopyTo(channel.WritableRing(0).Span);
        channel.Cons(0) = cons;
        channel.Prod(0) = prod1;
        var consumer = channel.Consumer(0, Max);
        var reference = new ReferenceConsumer(data, cons);
        var trace = new StringBuilder();
        Batch(channel, consumer, reference, prod1, trace);
        Batch(channel, consumer, reference, prod2, trace);
        if (consumer.IsPeerCorrupt)
        {
            trace.Append(consumer.Fault);
        }

        return trace.ToString();
    }

    /// <summary>Publishes <paramref name="prod"/>, reads until empty or corrupt, releases.</summary>
    private static void Batch(TestChannel channel, RingConsumer consumer, ReferenceConsumer reference, uint prod, StringBuilder trace)
    {
        channel.Prod(0) = prod;
        reference.Prod = prod;
        int records = 0;
        for (int i = 0; i < Size; i++)
        {
            var status = consumer.TryRead(out var record);
            var (expected, offset, length) = reference.TryRead();
            if (status != expected)
            {
                throw new InvalidOperationException($"read {i}: consumer {status}, reference {expected}");
            }

            if (status != RingReadStatus.Record)
            {
                trace.Append(status == RingReadStatus.Empty ? 'E' : 'C').Append(Math.Min(records, 3)).Append(' ');
                break;
            }

            if (!channel.IsInsideReadOnlyRing(0, record.Payload))
            {
                throw new InvalidOperationException($"read {i}: payload outside the ring window");
            }

            long at = channel.OffsetInReadOnlyRing(0, record.Payload);
            if (at != offset || record.Payload.Length != length)
            {
                throw new InvalidOperationException($"read {i}: consumer record at {at}+{record.Payload.Length}, reference {offset}+{length}");
            }

            records++;
        }

        consumer.Release();
        reference.Release();
        if (channel.Cons(0) != reference.Cons)
        {
            throw new InvalidOperationException($"cons published {channel.Cons(0)}, reference {reference.Cons}");
        }
    }

    internal static IEnumerable<byte[]> Seeds()
    {
        // Well-formed rings: a few packet records, padding to the end, prod advanced in two steps.
        foreach (uint start in new uint[] { 0, 4000, Size - 16, 0xFFFF_FF00 })
        {
            var records = new List<byte>();
            foreach (int length in new[] { 1, 60, 8, 1024, 0, 200 })
            {
                byte[] header = new byte[8];
                BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)length);
                BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), 1);
                records.AddRange(header);
                records.AddRange(new byte[(length + 7) & ~7]);
            }

            byte[] input = new byte[Prefix + records.Count];
            BinaryPrimitives.WriteUInt32LittleEndian(input, start);
            BinaryPrimitives.WriteUInt32LittleEndian(input.AsSpan(4), start + 16);
            BinaryPrimitives.WriteUInt32LittleEndian(input.AsSpan(8), start + (uint)records.Count);
            records.CopyTo(input, Prefix);
            yield return input;
        }
    }

    /// <summary>The layout rules of <see cref="ChannelLayout"/>, read as plainly as possible from a private copy.</summary>
    private sealed class ReferenceConsumer(byte[] data, uint cons)
    {
        private uint _read = cons;
        private uint _seenProd = cons;
        private bool _corrupt = cons % 8 != 0;

        public uint Prod { get; set; }

        public uint Cons { get; private set; } = cons;

        public (RingReadStatus Status, long Offset, int Length) TryRead()
        {
            while (!_corrupt)
            {
                if (_read == _seenProd)
                {
                    uint filled = Prod - Cons;
                    if (Prod % 8 != 0 || filled > Size || filled < _seenProd - Cons)
                    {
                        _corrupt = true;
                        break;
                    }

                    _seenProd = Prod;
                    if (_read == _seenProd)
                    {
                        return (RingReadStatus.Empty, 0, 0);
                    }
                }

                int position = (int)(_read % Size);
                uint tail = (uint)(Size - position);
                uint available = _seenProd - _read;
                uint length = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(position));
                uint kind = BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(position + 4));
                if (kind == 2 && position != 0 && length == tail - 8 && tail <= available)
                {
                    _read += tail;
                    continue;
                }

                if (kind != 1 || length > Max)
                {
                    _corrupt = true;
                    break;
                }

                uint recordSize = 8 + ((length + 7) / 8 * 8);
                if (recordSize > available || recordSize > tail)
                {
                    _corrupt = true;
                    break;
                }

                _read += recordSize;
                return (RingReadStatus.Record, position + 8, (int)length);
            }

            return (RingReadStatus.PeerCorrupt, 0, 0);
        }

        public void Release() => Cons = _read;
    }
}
