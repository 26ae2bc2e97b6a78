namespace XenVmc.Rings;

/// <summary>The first rule a hostile or broken producer broke in a ring we consume.</summary>
public enum RingFault : byte
{
    None,

    /// <summary><c>prod</c> is misaligned, more than a ring ahead of <c>cons</c>, or went backwards.</summary>
    ProducerIndex,

    /// <summary>The published <c>cons</c> we started from is misaligned (someone else wrote it).</summary>
    ConsumerIndex,

    /// <summary>A record header names a kind that is neither packet nor padding.</summary>
    RecordKind,

    /// <summary>A packet record is longer than the maximum payload, the published bytes, or the end of the ring.</summary>
    RecordLength,

    /// <summary>A padding record at offset 0, of the wrong length, or past the published bytes.</summary>
    Padding,
}
