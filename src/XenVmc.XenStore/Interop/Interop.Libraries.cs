namespace XenVmc.XenStore.Interop;

internal static partial class Interop
{
    /// <summary>glibc's soname; plain "libc.so" is a linker script on Debian and cannot be dlopen()ed.</summary>
    internal const string Libc = "libc.so.6";
}
