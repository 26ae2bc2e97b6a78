namespace XenVmc.XenStore;

/// <summary>
/// The errno names XenStore sends in XS_ERROR replies, in the order of <c>xsd_errors[]</c>
/// (xs_wire.h; append-only, EPERM is the newest).
/// </summary>
public enum XsError
{
    EINVAL,
    EACCES,
    EEXIST,
    EISDIR,
    ENOENT,
    ENOMEM,
    ENOSPC,
    EIO,
    ENOTEMPTY,
    ENOSYS,
    EROFS,
    EBUSY,
    EAGAIN,
    EISCONN,
    E2BIG,
    EPERM,
}
