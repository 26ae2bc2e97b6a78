namespace XenVmc.XenStore.Tests;

internal static class Hex
{
    /// <summary>Golden bytes written as hex, spaces allowed between groups.</summary>
    public static byte[] Bytes(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));

    public static string Of(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes).ToLowerInvariant();
}
