using System.Runtime.InteropServices;

namespace XenVmc.XenStore.Interop;

internal static partial class Interop
{
    /// <summary>Only <see cref="SafeFdHandle"/> calls this; everything else closes through the handle.</summary>
    [LibraryImport(Libc, EntryPoint = "close", SetLastError = true)]
    internal static partial int DangerousClose(int fd);
}
