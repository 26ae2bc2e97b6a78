using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace XenVmc.Rings;

/// <summary>The control page of one channel: header, ring indices and flags, liveness.</summary>
/// <remarks>
/// Design: the page is shared with an untrusted peer that can write any byte of it at any time.
/// The header (magic, version, ring sizes) is read once, validated, and kept in private fields;
/// nothing re-reads it, so a peer that rewrites it later changes nothing here. The index and
/// flag fields are not read through this type: <see cref="RingProducer"/> and
/// <see cref="RingConsumer"/> take pointers to them and validate every value they read.
/// Liveness bytes and heartbeats are single aligned loads and stores (Volatile / Interlocked),
/// safe from any thread; a heartbeat is advanced by its own side only, and read by the other.
/// </remarks>
public sealed unsafe class ChannelControl
{
    private readonly byte* _page;
    private readonly int _ring0SizeLog2;
    private readonly int _ring1SizeLog2;

    private ChannelControl(MemoryWindow page, int ring0SizeLog2, int ring1SizeLog2)
    {
        Window = page;
        _page = page.Pointer;
        _ring0SizeLog2 = ring0SizeLog2;
        _ring1SizeLog2 = ring1SizeLog2;
    }

    public MemoryWindow Window { get; }

    /// <summary>
    /// Allocating side (Low): zeroes the page, writes the header, marks Low connected and High not
    /// yet connected (libvchan's server does the same), and returns the control for it.
    /// </summary>
    public static ChannelControl Initialize(MemoryWindow controlPage, int ring0SizeLog2, int ring1SizeLog2)
    {
        CheckPage(controlPage);
        if (!IsValidSizeLog2(ring0SizeLog2) || !IsValidSizeLog2(ring1SizeLog2))
        {
            throw new ArgumentOutOfRangeException(
                nameof(ring0SizeLog2),
                $"Ring sizes are 2^{ChannelLayout.MinimumRingSizeLog2}..2^{ChannelLayout.MaximumRingSizeLog2} bytes (got 2^{ring0SizeLog2}, 2^{ring1SizeLog2}).");
        }

        byte* page = controlPage.Pointer;
        controlPage.Span[..ChannelLayout.ControlPageSize].Clear();
        Field32(page, ChannelLayout.VersionOffset) = ChannelLayout.Version;
        Field32(page, ChannelLayout.Ring0SizeLog2Offset) = (uint)ring0SizeLog2;
        Field32(page, ChannelLayout.Ring1SizeLog2Offset) = (uint)ring1SizeLog2;
        page[ChannelLayout.LiveOffset(ChannelSide.Low)] = (byte)ChannelLiveness.Connected;
        page[ChannelLayout.LiveOffset(ChannelSide.High)] = (byte)ChannelLiveness.NotYetConnected;

        // Release store: whoever sees the magic sees the rest of the header.
        Volatile.Write(ref Field32(page, ChannelLayout.MagicOffset), ChannelLayout.Magic);
        return new ChannelControl(controlPage, ring0SizeLog2, ring1SizeLog2);
    }

    /// <summary>Mapping side (High): validates the header the peer wrote, once.</summary>
    public static bool TryAttach(
        MemoryWindow controlPage,
        [NotNullWhen(true)] out ChannelControl? control,
        [NotNullWhen(false)] out string? error)
    {
        CheckPage(controlPage);
        control = null;
        byte* page = controlPage.Pointer;

        // Each field read once, into a local, before it is judged.
        uint magic = Volatile.Read(ref Field32(page, ChannelLayout.MagicOffset));
        uint version = Volatile.Read(ref Field32(page, ChannelLayout.VersionOffset));
        uint ring0 = Volatile.Read(ref Field32(page, ChannelLayout.Ring0SizeLog2Offset));
        uint ring1 = Volatile.Read(ref Field32(page, ChannelLayout.Ring1SizeLog2Offset));

        if (magic != ChannelLayout.Magic)
        {
            error = $"bad magic 0x{magic:x8}";
            return false;
        }

        if (version != ChannelLayout.Version)
        {
            error = $"unsupported layout version {version}";
            return false;
        }

        if (!IsValidSizeLog2(ring0) || !IsValidSizeLog2(ring1))
        {
            error = $"ring sizes 2^{ring0}, 2^{ring1} outside 2^{ChannelLayout.MinimumRingSizeLog2}..2^{ChannelLayout.MaximumRingSizeLog2}";
            return false;
        }

        error = null;
        control = new ChannelControl(controlPage, (int)ring0, (int)ring1);
        return true;
    }

    /// <summary>The validated size of <paramref name="ring"/>, as log2 of bytes.</summary>
    public int RingSizeLog2(int ring) => ChannelLayout.CheckRing(ring) == ChannelLayout.Ring0 ? _ring0SizeLog2 : _ring1SizeLog2;

    public int RingSize(int ring) => 1 << RingSizeLog2(ring);

    /// <summary>A side's live byte; any value other than 1 or 2 reads as <see cref="ChannelLiveness.Gone"/>.</summary>
    public ChannelLiveness GetLive(ChannelSide side)
    {
        byte value = Volatile.Read(ref _page[ChannelLayout.LiveOffset(side)]);
        return value is (byte)ChannelLiveness.Connected or (byte)ChannelLiveness.NotYetConnected ? (ChannelLiveness)value : ChannelLiveness.Gone;
    }

    public void SetLive(ChannelSide side, ChannelLiveness value) =>
        Volatile.Write(ref _page[ChannelLayout.LiveOffset(side)], (byte)value);

    public ulong GetHeartbeat(ChannelSide side) =>
        Volatile.Read(ref Unsafe.AsRef<ulong>(_page + ChannelLayout.HeartbeatOffset(side)));

    /// <summary>Advances <paramref name="side"/>'s heartbeat; call it for your own side only.</summary>
    public void BeatHeart(ChannelSide side) =>
        Interlocked.Increment(ref Unsafe.AsRef<ulong>(_page + ChannelLayout.HeartbeatOffset(side)));

    internal uint* Field(int offset) => (uint*)(_page + offset);

    private static ref uint Field32(byte* page, int offset) => ref Unsafe.AsRef<uint>(page + offset);

    private static bool IsValidSizeLog2(long log2) =>
        log2 >= ChannelLayout.MinimumRingSizeLog2 && log2 <= ChannelLayout.MaximumRingSizeLog2;

    private static void CheckPage(MemoryWindow controlPage)
    {
        if (controlPage.Length < ChannelLayout.ControlPageSize)
        {
            throw new ArgumentException($"The control page is {ChannelLayout.ControlPageSize} bytes (got {controlPage.Length}).", nameof(controlPage));
        }

        if (controlPage.Address % ChannelLayout.LineSize != 0)
        {
            throw new ArgumentException($"The control page must be {ChannelLayout.LineSize}-byte aligned (got {controlPage}).", nameof(controlPage));
        }
    }
}
