namespace XenVmc.XenStore.Protocol;

/// <summary>Size limits of the XenStore wire protocol (xs_wire.h).</summary>
internal static class XsLimits
{
    /// <summary>XENSTORE_PAYLOAD_MAX: bytes after the header, both directions; xenstored drops a connection that exceeds it.</summary>
    public const int PayloadMax = 4096;

    /// <summary>XENSTORE_ABS_PATH_MAX: exceeding it only earns an error.</summary>
    public const int AbsPathMax = 3072;

    /// <summary>XENSTORE_REL_PATH_MAX: the part below /local/domain/N/, for unprivileged domains.</summary>
    public const int RelPathMax = 2048;

    /// <summary>
    /// /dev/xen/xenbus buffers one whole message, header included, in a 4096-byte buffer
    /// (drivers/xen/xenbus/xenbus_dev_frontend.c), so its payload limit is 16 bytes less.
    /// </summary>
    public const int DeviceMessageMax = 4096;

    public const int DevicePayloadMax = DeviceMessageMax - XsHeader.Size;

    /// <summary>Largest frame either side may legally send.</summary>
    public const int FrameMax = XsHeader.Size + PayloadMax;
}
