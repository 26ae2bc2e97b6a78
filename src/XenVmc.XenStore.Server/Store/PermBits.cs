namespace XenVmc.XenStore.Server.Store;

/// <summary>xenstored's internal permission mask (tools/include/xenstore_lib.h, enum xs_perm_type).</summary>
[Flags]
internal enum PermBits : byte
{
    None = 0x00,
    Read = 0x01,
    Write = 0x02,

    /// <summary>Only in computed results: the caller may change the ACL.</summary>
    Owner = 0x08,

    /// <summary>The entry names a domain that is gone (or never existed) and counts for nothing.</summary>
    Ignore = 0x10,
}
