using XenVmc.Linux;

namespace XenVmc.Platform.Simulated;

public sealed partial class SimHypervisorServer
{
    private int GrantAlloc(Connection caller, uint grantee, uint pages, bool writable, Span<byte> reply, List<SafeFileDescriptor> fds)
    {
        if (!IsDomid(grantee) || pages == 0 || pages > SimHypercall.MaxRefs)
        {
            return SimHypercall.WriteReply(reply, Errno.EINVAL, 0, 0, []);
        }

        Span<uint> refs = stackalloc uint[(int)pages];
        lock (_lock)
        {
            int granted = _grantedPages.GetValueOrDefault(caller.Domid);
            if (granted + (int)pages > GrantLimit)
            {
                LogHypercallFailed(caller.Domid, SimHypercall.Op.GrantAlloc, $"{pages} more pages would pass the grant limit ({granted} of {GrantLimit} granted)");
                return SimHypercall.WriteReply(reply, Errno.ENOSPC, 0, 0, []);
            }

            _grantedPages[caller.Domid] = granted + (int)pages;
            uint first = _nextRef.GetValueOrDefault(caller.Domid, FirstGrantRef);
            _nextRef[caller.Domid] = first + pages;
            string path = Path.Combine(SharedMemoryDirectory, $"d{caller.Domid}-g{first}");
            var fd = SharedMemoryFile.Create(path, (long)pages * SimHypercall.PageSize);
            var allocation = new Allocation(caller, (ushort)grantee, writable, first, (int)pages, path, fd);
            for (uint i = 0; i < pages; i++)
            {
                refs[(int)i] = first + i;
                _grants.Add((caller.Domid, first + i), allocation);
            }

            caller.Allocations.Add(allocation);
            fds.Add(SharedMemoryFile.Open(path, writable: true));
        }

        return SimHypercall.WriteReply(reply, 0, 0, 0, refs);
    }

    private int GrantMap(Connection caller, uint granter, bool writable, ReadOnlySpan<uint> refs, Span<byte> reply, List<SafeFileDescriptor> fds)
    {
        if (!IsDomid(granter) || refs.Length == 0)
        {
            return SimHypercall.WriteReply(reply, Errno.EINVAL, 0, 0, []);
        }

        lock (_lock)
        {
            if (!_grants.TryGetValue(((ushort)granter, refs[0]), out var allocation))
            {
                return SimHypercall.WriteReply(reply, Errno.ENOENT, 0, 0, []);
            }

            // A grant names one domain; Xen refuses anyone else (GNTST_permission_denied).
            if (allocation.Grantee != caller.Domid || (writable && !allocation.Writable))
            {
                return SimHypercall.WriteReply(reply, Errno.EPERM, 0, 0, []);
            }

            // The simulation maps runs of one allocation: refs must be consecutive pages of it.
            uint index = refs[0] - allocation.FirstRef;
            for (int i = 0; i < refs.Length; i++)
            {
                if (refs[i] != refs[0] + i || index + i >= allocation.Pages)
                {
                    return SimHypercall.WriteReply(reply, Errno.EINVAL, 0, 0, []);
                }
            }

            fds.Add(SharedMemoryFile.Open(allocation.Path, writable));
            return SimHypercall.WriteReply(reply, 0, 0, index * (ulong)SimHypercall.PageSize, []);
        }
    }

    private int GrantRelease(Connection caller, ReadOnlySpan<uint> refs, Span<byte> reply)
    {
        if (refs.Length != 1)
        {
            return SimHypercall.WriteReply(reply, Errno.EINVAL, 0, 0, []);
        }

        lock (_lock)
        {
            if (!_grants.TryGetValue((caller.Domid, refs[0]), out var allocation) || allocation.Owner != caller || allocation.FirstRef != refs[0])
            {
                return SimHypercall.WriteReply(reply, Errno.ENOENT, 0, 0, []);
            }

            caller.Allocations.Remove(allocation);
            FireNotifications(caller, n => ReferenceEquals(n.Allocation, allocation));
            EndGrant(allocation);
        }

        return SimHypercall.WriteReply(reply, 0, 0, 0, []);
    }

    /// <summary>Ends a grant: nobody can map it any more; existing mappings stay valid, as in Xen.</summary>
    private void EndGrant(Allocation allocation)
    {
        _grantedPages[allocation.Owner.Domid] -= allocation.Pages;
        for (uint i = 0; i < allocation.Pages; i++)
        {
            _grants.Remove((allocation.Owner.Domid, allocation.FirstRef + i));
        }

        allocation.Fd.Dispose();
        File.Delete(allocation.Path);
    }

    private sealed record Allocation(Connection Owner, ushort Grantee, bool Writable, uint FirstRef, int Pages, string Path, SafeFileDescriptor Fd);
}
