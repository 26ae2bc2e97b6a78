namespace XenVmc.XenStore.Protocol;

/// <summary>Message types of <c>enum xsd_sockmsg_type</c> (xen/include/public/io/xs_wire.h).</summary>
/// <remarks>20 was XS_RESTRICT and is no longer valid; 23..26 are optional and dom0-only.</remarks>
internal enum XsMessageType : uint
{
    Control = 0,
    Directory = 1,
    Read = 2,
    GetPerms = 3,
    Watch = 4,
    Unwatch = 5,
    TransactionStart = 6,
    TransactionEnd = 7,
    Introduce = 8,
    Release = 9,
    GetDomainPath = 10,
    Write = 11,
    Mkdir = 12,
    Rm = 13,
    SetPerms = 14,
    WatchEvent = 15,
    Error = 16,
    IsDomainIntroduced = 17,
    Resume = 18,
    SetTarget = 19,
    ResetWatches = 21,
    DirectoryPart = 22,
    GetFeature = 23,
    SetFeature = 24,
    GetQuota = 25,
    SetQuota = 26,
    TypeCount = 27,
    Invalid = 0xFFFF,
}
