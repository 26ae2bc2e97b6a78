using System.Runtime.InteropServices;

namespace XenVmc.Linux.Interop;

// <unistd.h>
internal static partial class Libc
{
    [LibraryImport(Name, EntryPoint = "pipe2", SetLastError = true)]
    internal static unsafe partial int Pipe2(int* pipefd, int flags);
}
