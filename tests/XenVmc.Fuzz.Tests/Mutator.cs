using System.Buffers.Binary;

namespace XenVmc.Fuzz.Tests;

/// <summary>
/// Byte-level mutations in the style of AFL's havoc stage: bit flips, interesting values at
/// random offsets (8, 16 and 32 bits, both byte orders), inserted, deleted and duplicated runs,
/// truncation, and splicing with another corpus entry.
/// </summary>
internal sealed class Mutator(Random random, int maxLength)
{
    private static readonly byte[] Interesting8 = [0, 1, 0x7f, 0x80, 0xff, 0x40, 0x45, 0x60, 0x4f, 0x20, 0x10, 8, 6, 17, 58, 44, 43, 60, 0];
    private static readonly uint[] Interesting32 = [0, 1, 7, 8, 9, 15, 16, 0x7f, 0x80, 0xff, 0x100, 0x3ff, 0x400, 0x1000, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffff8, 0xffffffff];

    public byte[] Mutate(byte[] input, IReadOnlyList<byte[]> corpus)
    {
        var data = new List<byte>(input);
        int steps = 1 << random.Next(4);
        for (int i = 0; i < steps; i++)
        {
            MutateOnce(data, corpus);
        }

        if (data.Count > maxLength)
        {
            data.RemoveRange(maxLength, data.Count - maxLength);
        }

        return [.. data];
    }

    private void MutateOnce(List<byte> data, IReadOnlyList<byte[]> corpus)
    {
        int choice = random.Next(data.Count == 0 ? 1 : 11);
        int at = data.Count == 0 ? 0 : random.Next(data.Count);
        switch (choice)
        {
            case 0:
                data.Insert(random.Next(data.Count + 1), (byte)random.Next(256));
                break;
            case 1:
                data[at] ^= (byte)(1 << random.Next(8));
                break;
            case 2:
                data[at] = Interesting8[random.Next(Interesting8.Length)];
                break;
            case 3:
                data[at] = (byte)random.Next(256);
                break;
            case 4:
                WriteWord(data, 2);
                break;
            case 5:
                WriteWord(data, 4);
                break;
            case 6:
                data.RemoveRange(at, random.Next(1, Math.Min(16, data.Count - at) + 1));
                break;
            case 7:
                data.InsertRange(random.Next(data.Count + 1), data.GetRange(at, random.Next(1, Math.Min(32, data.Count - at) + 1)));
                break;
            case 8:
                data.RemoveRange(at, data.Count - at);
                break;
            case 9:
                data[at] = (byte)(data[at] + (random.Next(1, 36) * (random.Next(2) == 0 ? 1 : -1)));
                break;
            default:
                // Splice: our head, another entry's tail.
                byte[] other = corpus[random.Next(corpus.Count)];
                int otherCut = other.Length == 0 ? 0 : random.Next(other.Length);
                data.RemoveRange(at, data.Count - at);
                data.AddRange(other.AsSpan(otherCut).ToArray());
                break;
        }
    }

    private void WriteWord(List<byte> data, int size)
    {
        if (data.Count < size)
        {
            return;
        }

        uint value = Interesting32[random.Next(Interesting32.Length)];
        if (random.Next(4) == 0)
        {
            value += (uint)random.Next(-4, 5);
        }

        Span<byte> bytes = stackalloc byte[4];
        if (random.Next(2) == 0)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        }
        else
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes, value << (8 * (4 - size)));
        }

        int at = random.Next(data.Count - size + 1);
        for (int i = 0; i < size; i++)
        {
            data[at + i] = bytes[i];
        }
    }
}
