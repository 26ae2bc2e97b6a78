using System.Globalization;

namespace XenVmc.Tests.Support;

/// <summary>This process's mappings as the kernel lists them in /proc/self/maps: the truth about a mapping's protection.</summary>
internal static class ProcMaps
{
    public sealed record Mapping(ulong Start, ulong End, string Permissions, string Path);

    public static IReadOnlyList<Mapping> Read()
    {
        var result = new List<Mapping>();
        foreach (string line in File.ReadAllLines("/proc/self/maps"))
        {
            // start-end perms offset dev inode [path]
            string[] fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            string[] range = fields[0].Split('-');
            result.Add(new Mapping(
                ulong.Parse(range[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                ulong.Parse(range[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                fields[1],
                fields.Length > 5 ? fields[5].Trim() : ""));
        }

        return result;
    }

    /// <summary>The permissions ("r--s", "rw-s", ...) of the mapping holding every byte of [address, address + length).</summary>
    public static string PermissionsOf(nint address, int length)
    {
        ulong start = (ulong)address;
        ulong end = start + (ulong)length;
        var mapping = Read().SingleOrDefault(m => m.Start <= start && end <= m.End);
        Assert.True(mapping is not null, $"no single mapping covers 0x{start:x}..0x{end:x}");
        return mapping.Permissions;
    }

    /// <summary>Permissions of every mapping of <paramref name="path"/> in this process.</summary>
    public static IReadOnlyList<string> PermissionsOfFile(string path) =>
        [.. Read().Where(m => m.Path == path || m.Path == path + " (deleted)").Select(m => m.Permissions).Order(StringComparer.Ordinal)];
}
