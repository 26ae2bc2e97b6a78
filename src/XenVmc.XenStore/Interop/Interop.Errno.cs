namespace XenVmc.XenStore.Interop;

internal static partial class Interop
{
    /// <summary>The errno values this assembly reacts to (include/uapi/asm-generic/errno-base.h).</summary>
    internal const int EINTR = 4;
    internal const int EAGAIN = 11;
}
