using System.Runtime.InteropServices;

namespace XenVmc.Linux.Interop;

// <unistd.h>
internal static partial class Libc
{
    [LibraryImport(Name, EntryPoint = "unlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Unlink(string pathname);
}
