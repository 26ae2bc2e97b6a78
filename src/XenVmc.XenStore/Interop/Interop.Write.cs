using System.Runtime.InteropServices;

namespace XenVmc.XenStore.Interop;

internal static partial class Interop
{
    [LibraryImport(Libc, EntryPoint = "write", SetLastError = true)]
    private static unsafe partial nint Write(SafeFdHandle fd, byte* buffer, nuint count);

    internal static unsafe nint Write(SafeFdHandle fd, ReadOnlySpan<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            return Write(fd, p, (nuint)buffer.Length);
        }
    }
}
