using System.Buffers.Binary;
using XenVmc.Packets;
using Xunit;

namespace XenVmc.Packets.Tests;

public class ChecksumTests
{
    public static TheoryData<string, ushort> SumVectors => new()
    {
        { "", 0x0000 },
        { "0001f203f4f5f6f7", 0xddf2 },     // RFC 1071 §3 worked example
        { "ff", 0xff00 },                   // odd byte is the high byte of a zero-padded word
        { "0102", 0x0102 },
        { "010203", 0x0402 },
        { "ffff", 0xffff },
        { "ffffffff", 0xffff },              // -0 + -0
        { "80008000", 0x0001 },              // end-around carry
        { "4500007300004000401100" + "00c0a80001c0a800c7", 0x479e },
    };

    [Theory]
    [MemberData(nameof(SumVectors))]
    public void SumMatchesVectors(string hex, ushort expected)
    {
        Assert.Equal(expected, Checksum.Sum(Convert.FromHexString(hex)));
    }

    [Fact]
    public void WikipediaHeaderChecksum()
    {
        byte[] header = GoldenPackets.Bytes(GoldenPackets.WikipediaIpv4Header);
        Assert.Equal(0xb861, Checksum.Compute(header));
        Assert.Equal(0xb861, Ipv4Header.ComputeHeaderChecksum(header));
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(10), 0xb861);
        Assert.True(Checksum.Verify(header));
        Assert.Equal(0xb861, Ipv4Header.ComputeHeaderChecksum(header)); // ignores what the field holds
        header[10] ^= 1;
        Assert.False(Checksum.Verify(header));
    }

    [Fact]
    public void Rfc1071ExampleComplement()
    {
        Assert.Equal(0x220d, Checksum.Compute(Convert.FromHexString("0001f203f4f5f6f7")));
    }

    [Fact]
    public void MatchesNaiveSumForEveryLengthAndInitialValue()
    {
        var random = new Random(7);
        for (int length = 0; length <= 300; length++)
        {
            for (int trial = 0; trial < 8; trial++)
            {
                byte[] data = new byte[length];
                random.NextBytes(data);
                if (trial == 0)
                {
                    data.AsSpan().Fill(0xFF);
                }

                ushort initial = (ushort)random.Next(0, 0x10000);
                Assert.Equal(NaiveSum(data, initial), Checksum.Sum(data, initial));
            }
        }
    }

    [Fact]
    public void ChainedSumsOverEvenSplitsEqualOneSum()
    {
        var random = new Random(8);
        byte[] data = new byte[1001];
        random.NextBytes(data);
        for (int split = 0; split <= data.Length; split += 2)
        {
            Assert.Equal(Checksum.Sum(data), Checksum.Sum(data.AsSpan(split), Checksum.Sum(data.AsSpan(0, split))));
        }
    }

    [Fact]
    public void LargeBuffersDoNotOverflow()
    {
        byte[] data = new byte[1 << 20];
        data.AsSpan().Fill(0xFF);
        Assert.Equal(0xFFFF, Checksum.Sum(data));
        Assert.Equal(NaiveSum(data, 0x1234), Checksum.Sum(data, 0x1234));
    }

    [Fact]
    public void AddAndFoldAreOnesComplement()
    {
        Assert.Equal(0x0002, Checksum.Add(0xFFFF, 0x0002)); // 0xFFFF is -0: end-around carry
        Assert.Equal(0xFFFF, Checksum.Add(0xFFFE, 0x0001));
        Assert.Equal(0x0000, Checksum.Fold(0));
        Assert.Equal(0xFFFF, Checksum.Fold(0xFFFF));
        Assert.Equal(0x0001, Checksum.Fold(0x1_0000));
        Assert.Equal(NaiveFold(ulong.MaxValue), Checksum.Fold(ulong.MaxValue));
        Assert.Equal(NaiveFold(0x1234_5678_9ABC_DEF0), Checksum.Fold(0x1234_5678_9ABC_DEF0));
    }

    [Fact]
    public void PseudoHeaderSumsMatchExplicitPseudoHeaders()
    {
        var random = new Random(9);
        for (int i = 0; i < 200; i++)
        {
            byte[] src4 = new byte[4], dst4 = new byte[4], src6 = new byte[16], dst6 = new byte[16];
            random.NextBytes(src4);
            random.NextBytes(dst4);
            random.NextBytes(src6);
            random.NextBytes(dst6);
            byte protocol = (byte)random.Next(256);
            ushort length4 = (ushort)random.Next(0x10000);
            uint length6 = (uint)random.NextInt64(0, 1L << 32);

            byte[] v4 = [.. src4, .. dst4, 0, protocol, (byte)(length4 >> 8), (byte)length4];
            Assert.Equal(NaiveSum(v4, 0), Checksum.PseudoHeaderSumV4(src4, dst4, protocol, length4));

            byte[] v6 = new byte[40];
            src6.CopyTo(v6, 0);
            dst6.CopyTo(v6, 16);
            BinaryPrimitives.WriteUInt32BigEndian(v6.AsSpan(32), length6);
            v6[39] = protocol;
            Assert.Equal(NaiveSum(v6, 0), Checksum.PseudoHeaderSumV6(src6, dst6, protocol, length6));
        }
    }

    [Fact]
    public void PseudoHeaderRejectsWrongAddressLengths()
    {
        Assert.Throws<ArgumentException>(() => Checksum.PseudoHeaderSumV4(new byte[16], new byte[4], 6, 0));
        Assert.Throws<ArgumentException>(() => Checksum.PseudoHeaderSumV6(new byte[4], new byte[16], 6, 0));
    }

    private static ushort NaiveSum(byte[] data, ushort initial)
    {
        uint sum = initial;
        for (int i = 0; i < data.Length; i += 2)
        {
            int word = data[i] << 8 | (i + 1 < data.Length ? data[i + 1] : 0);
            sum += (uint)word;
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        return (ushort)sum;
    }

    private static ushort NaiveFold(ulong value)
    {
        // value mod 0xFFFF, with 0xFFFF (not 0) for non-zero multiples.
        if (value == 0)
        {
            return 0;
        }

        ulong r = value % 0xFFFF;
        return r == 0 ? (ushort)0xFFFF : (ushort)r;
    }
}
