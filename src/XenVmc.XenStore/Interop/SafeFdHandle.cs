using System.Runtime.InteropServices;

namespace XenVmc.XenStore.Interop;

/// <summary>A Linux file descriptor; -1 is the only invalid value (0 is a real fd).</summary>
internal sealed class SafeFdHandle : SafeHandle
{
    public SafeFdHandle()
        : base(invalidHandleValue: -1, ownsHandle: true)
    {
    }

    public SafeFdHandle(int fd, bool ownsHandle)
        : base(invalidHandleValue: -1, ownsHandle)
    {
        SetHandle(fd);
    }

    public override bool IsInvalid => handle == -1;

    protected override bool ReleaseHandle() => Interop.DangerousClose((int)handle) == 0;
}
