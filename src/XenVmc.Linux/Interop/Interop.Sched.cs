using System.Runtime.InteropServices;

namespace XenVmc.Linux.Interop;

// <sched.h>: namespaces are per thread (task); both calls affect only the calling thread.
internal static partial class Libc
{
    internal const int CLONE_NEWNET = 0x40000000;

    [LibraryImport(Name, EntryPoint = "unshare", SetLastError = true)]
    internal static partial int Unshare(int flags);

    [LibraryImport(Name, EntryPoint = "setns", SetLastError = true)]
    internal static partial int SetNs(SafeFileDescriptor fd, int nstype);
}
