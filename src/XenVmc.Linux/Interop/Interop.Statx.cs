using System.Runtime.InteropServices;

namespace XenVmc.Linux.Interop;

// include/uapi/linux/fcntl.h, include/uapi/linux/stat.h
internal static partial class Libc
{
    internal const int AT_FDCWD = -100;
    internal const uint STATX_TYPE = 0x1;
    internal const ushort S_IFMT = 0xF000;
    internal const ushort S_IFSOCK = 0xC000;

    /// <summary>
    /// <c>struct statx</c> is the same on every architecture (unlike <c>struct stat</c>), which is why
    /// statx and not stat tells a socket from a device. Only <c>stx_mode</c> is read.
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    internal struct Statx
    {
        [FieldOffset(0)]
        public uint Mask;

        [FieldOffset(28)]
        public ushort Mode;
    }

    [LibraryImport(Name, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int StatxPath(int dirFd, string path, int flags, uint mask, out Statx result);
}
