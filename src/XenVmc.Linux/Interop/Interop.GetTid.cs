using System.Runtime.InteropServices;

namespace XenVmc.Linux.Interop;

// <unistd.h> (glibc >= 2.30)
internal static partial class Libc
{
    [LibraryImport(Name, EntryPoint = "gettid")]
    internal static partial int GetTid();
}
