namespace XenVmc.XenStore;

/// <summary>A transaction id as xenstored hands it out; <see cref="None"/> (0) means outside any transaction.</summary>
public readonly record struct XsTransaction(uint Id)
{
    public static XsTransaction None => default;
}
