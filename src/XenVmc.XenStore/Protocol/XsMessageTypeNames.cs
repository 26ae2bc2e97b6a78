namespace XenVmc.XenStore.Protocol;

internal static class XsMessageTypeNames
{
    /// <summary>The xs_wire.h name without the XS_ prefix, as xenstored's traces print it.</summary>
    public static string WireName(this XsMessageType type) => type switch
    {
        XsMessageType.Control => "CONTROL",
        XsMessageType.Directory => "DIRECTORY",
        XsMessageType.Read => "READ",
        XsMessageType.GetPerms => "GET_PERMS",
        XsMessageType.Watch => "WATCH",
        XsMessageType.Unwatch => "UNWATCH",
        XsMessageType.TransactionStart => "TRANSACTION_START",
        XsMessageType.TransactionEnd => "TRANSACTION_END",
        XsMessageType.Introduce => "INTRODUCE",
        XsMessageType.Release => "RELEASE",
        XsMessageType.GetDomainPath => "GET_DOMAIN_PATH",
        XsMessageType.Write => "WRITE",
        XsMessageType.Mkdir => "MKDIR",
        XsMessageType.Rm => "RM",
        XsMessageType.SetPerms => "SET_PERMS",
        XsMessageType.WatchEvent => "WATCH_EVENT",
        XsMessageType.Error => "ERROR",
        XsMessageType.IsDomainIntroduced => "IS_DOMAIN_INTRODUCED",
        XsMessageType.Resume => "RESUME",
        XsMessageType.SetTarget => "SET_TARGET",
        XsMessageType.ResetWatches => "RESET_WATCHES",
        XsMessageType.DirectoryPart => "DIRECTORY_PART",
        XsMessageType.GetFeature => "GET_FEATURE",
        XsMessageType.SetFeature => "SET_FEATURE",
        XsMessageType.GetQuota => "GET_QUOTA",
        XsMessageType.SetQuota => "SET_QUOTA",
        _ => $"type {(uint)type}",
    };
}
