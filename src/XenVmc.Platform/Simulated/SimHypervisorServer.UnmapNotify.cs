using Microsoft.Win32.SafeHandles;

namespace XenVmc.Platform.Simulated;

/// <summary>
/// Unmap notifications: a domain names a byte in a page it holds writable (its own grant, or a
/// writable mapping of a peer's), and the byte is cleared when that mapping goes — unmapped, or
/// the domain's connection closed because its process died. The peer sees the byte go to zero.
/// </summary>
public sealed partial class SimHypervisorServer
{
    /// <summary>More than any honest domain needs (one per channel); bounds what a buggy one can pin.</summary>
    private const int MaxNotificationsPerConnection = 4096;

    private static readonly byte[] Cleared = [0];

    private int SetUnmapNotify(Connection caller, uint granter, uint offset, ReadOnlySpan<uint> refs, Span<byte> reply)
    {
        ushort owner = granter == SimHypercall.DomidSelf ? caller.Domid : (ushort)granter;
        if (refs.Length != 1 || offset >= SimHypercall.PageSize || (granter != SimHypercall.DomidSelf && !IsDomid(granter)))
        {
            return SimHypercall.WriteReply(reply, Errno.EINVAL, 0, 0, []);
        }

        lock (_lock)
        {
            if (!_grants.TryGetValue((owner, refs[0]), out var allocation))
            {
                return SimHypercall.WriteReply(reply, Errno.ENOENT, 0, 0, []);
            }

            // Only a writer may have a byte cleared: the owner, or the grantee of a writable grant.
            if (allocation.Owner != caller && !(allocation.Grantee == caller.Domid && allocation.Writable))
            {
                return SimHypercall.WriteReply(reply, Errno.EPERM, 0, 0, []);
            }

            if (caller.Notifications.Count >= MaxNotificationsPerConnection)
            {
                return SimHypercall.WriteReply(reply, Errno.ENOSPC, 0, 0, []);
            }

            long fileOffset = ((long)(refs[0] - allocation.FirstRef) * SimHypercall.PageSize) + offset;
            var file = File.OpenHandle(allocation.Path, FileMode.Open, FileAccess.ReadWrite);
            caller.Notifications.Add(new UnmapNotification(allocation, refs[0], fileOffset, file));
        }

        return SimHypercall.WriteReply(reply, 0, 0, 0, []);
    }

    private int Unmapped(Connection caller, uint granter, ReadOnlySpan<uint> refs, Span<byte> reply)
    {
        if (refs.Length != 1 || !IsDomid(granter))
        {
            return SimHypercall.WriteReply(reply, Errno.EINVAL, 0, 0, []);
        }

        uint page = refs[0];
        lock (_lock)
        {
            FireNotifications(caller, n => n.Allocation.Owner.Domid == granter && n.Ref == page);
        }

        return SimHypercall.WriteReply(reply, 0, 0, 0, []);
    }

    /// <summary>Clears the byte of each matching notification and forgets it. Called under the lock.</summary>
    private void FireNotifications(Connection connection, Predicate<UnmapNotification> match)
    {
        foreach (var notification in connection.Notifications.FindAll(match))
        {
            try
            {
                // The page may have outlived its grant (Xen keeps mapped pages); the write still lands.
                RandomAccess.Write(notification.File, Cleared, notification.FileOffset);
            }
            catch (IOException e)
            {
                LogHypercallFailed(connection.Domid, SimHypercall.Op.UnmapNotify, e.Message);
            }

            notification.File.Dispose();
        }

        connection.Notifications.RemoveAll(match);
    }

    private sealed record UnmapNotification(Allocation Allocation, uint Ref, long FileOffset, SafeFileHandle File);
}
