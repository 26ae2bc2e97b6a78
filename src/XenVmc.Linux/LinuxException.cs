using System.Runtime.InteropServices;
using XenVmc.Linux.Interop;

namespace XenVmc.Linux;

/// <summary>A failed Linux system call or netlink request, naming what it was done to.</summary>
/// <remarks>
/// Message: "&lt;operation&gt; &lt;object&gt;: &lt;strerror&gt; (&lt;ENAME&gt;)", followed by "; kernel: &lt;text&gt;" when
/// the kernel explained itself (netlink extended ACK).
/// </remarks>
public class LinuxException : IOException
{
    public LinuxException(int errno, string operation, string objectName, string? kernelMessage = null)
        : base(FormatMessage(errno, operation, objectName, kernelMessage))
    {
        Errno = errno;
        Operation = operation;
        ObjectName = objectName;
        KernelMessage = kernelMessage;
    }

    /// <summary>For callers whose description already names the object: "&lt;what&gt;: &lt;strerror&gt; (&lt;ENAME&gt;)".</summary>
    public LinuxException(int errno, string what)
        : base($"{what}: {Marshal.GetPInvokeErrorMessage(errno)} ({GetErrnoName(errno)})")
    {
        Errno = errno;
        Operation = what;
        ObjectName = string.Empty;
    }

    internal LinuxException(Errno errno, string operation, string objectName, string? kernelMessage = null)
        : this((int)errno, operation, objectName, kernelMessage)
    {
    }

    /// <summary>The errno value (positive).</summary>
    public int Errno { get; }

    /// <summary>The kernel's name for <see cref="Errno"/>, such as "EBUSY"; "errno 999" when unknown.</summary>
    public string ErrnoName => GetErrnoName(Errno);

    /// <summary>What was attempted, such as "attach or create TUN".</summary>
    public string Operation { get; }

    /// <summary>The device, path, route or address involved.</summary>
    public string ObjectName { get; }

    /// <summary>The netlink extended-ACK text, when the kernel sent one.</summary>
    public string? KernelMessage { get; }

    /// <summary>Throws for the errno of the last failed interop call on this thread.</summary>
    internal static LinuxException FromLastError(string operation, string objectName) =>
        new(Libc.GetLastErrno(), operation, objectName);

    internal static string GetErrnoName(int errno) =>
        Enum.IsDefined((Errno)errno) ? ((Errno)errno).ToString() : $"errno {errno}";

    private static string FormatMessage(int errno, string operation, string objectName, string? kernelMessage)
    {
        string text = $"{operation} {objectName}: {Marshal.GetPInvokeErrorMessage(errno)} ({GetErrnoName(errno)})";
        return string.IsNullOrEmpty(kernelMessage) ? text : $"{text}; kernel: {kernelMessage}";
    }
}
