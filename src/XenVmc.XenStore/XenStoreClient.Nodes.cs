using System.Text;
using XenVmc.XenStore.Protocol;

namespace XenVmc.XenStore;

public sealed partial class XenStoreClient
{
    /// <summary>DIRECTORY_PART restarts when the node changes under it; this bounds the restarts.</summary>
    private const int DirectoryPartAttempts = 16;

    public Task<byte[]> ReadAsync(string path, XsTransaction tx = default, CancellationToken ct = default) =>
        RequestAsync(XsMessageType.Read, tx, XsRequests.Path(path), path, ct);

    /// <summary>Reads a value as UTF-8 (XenStore values are meant to be printable ASCII).</summary>
    public async Task<string> ReadStringAsync(string path, XsTransaction tx = default, CancellationToken ct = default) =>
        Encoding.UTF8.GetString(await ReadAsync(path, tx, ct).ConfigureAwait(false));

    /// <summary>Like <see cref="ReadStringAsync"/>, but null when the node does not exist.</summary>
    public async Task<string?> TryReadStringAsync(string path, XsTransaction tx = default, CancellationToken ct = default)
    {
        try
        {
            return await ReadStringAsync(path, tx, ct).ConfigureAwait(false);
        }
        catch (XenStoreException e) when (e.Error == XsError.ENOENT)
        {
            return null;
        }
    }

    /// <summary>The children of <paramref name="path"/>; none if the node does not exist.</summary>
    public async Task<IReadOnlyList<string>> TryDirectoryAsync(string path, XsTransaction tx = default, CancellationToken ct = default)
    {
        try
        {
            return await DirectoryAsync(path, tx, ct).ConfigureAwait(false);
        }
        catch (XenStoreException e) when (e.Error == XsError.ENOENT)
        {
            return [];
        }
    }

    public Task WriteAsync(string path, string value, XsTransaction tx = default, CancellationToken ct = default) =>
        WriteAsync(path, Encoding.UTF8.GetBytes(value), tx, ct);

    /// <summary>Writes a value, creating the node and any missing parents.</summary>
    public async Task WriteAsync(string path, ReadOnlyMemory<byte> value, XsTransaction tx = default, CancellationToken ct = default) =>
        XsReplies.Ok(await RequestAsync(XsMessageType.Write, tx, XsRequests.Write(path, value.Span), path, ct).ConfigureAwait(false));

    /// <summary>Creates an empty node (and missing parents); an existing node is left alone.</summary>
    public async Task MkdirAsync(string path, XsTransaction tx = default, CancellationToken ct = default) =>
        XsReplies.Ok(await RequestAsync(XsMessageType.Mkdir, tx, XsRequests.Path(path), path, ct).ConfigureAwait(false));

    /// <summary>Removes a node and everything below it; a missing node is fine if its parent exists.</summary>
    public async Task RmAsync(string path, XsTransaction tx = default, CancellationToken ct = default) =>
        XsReplies.Ok(await RequestAsync(XsMessageType.Rm, tx, XsRequests.Path(path), path, ct).ConfigureAwait(false));

    /// <summary>
    /// Lists child names in the order the server keeps them. A list too long for one reply (E2BIG)
    /// is fetched piecewise with DIRECTORY_PART, as libxenstore does.
    /// </summary>
    public async Task<IReadOnlyList<string>> DirectoryAsync(string path, XsTransaction tx = default, CancellationToken ct = default)
    {
        try
        {
            return XsReplies.Strings(await RequestAsync(XsMessageType.Directory, tx, XsRequests.Path(path), path, ct).ConfigureAwait(false));
        }
        catch (XenStoreException e) when (e.Error == XsError.E2BIG)
        {
            return await DirectoryPartsAsync(path, tx, ct).ConfigureAwait(false);
        }
    }

    public async Task<IReadOnlyList<XsPermission>> GetPermissionsAsync(string path, XsTransaction tx = default, CancellationToken ct = default) =>
        XsReplies.Permissions(await RequestAsync(XsMessageType.GetPerms, tx, XsRequests.Path(path), path, ct).ConfigureAwait(false));

    /// <summary>Replaces the ACL; the first entry names the owner and the default access.</summary>
    public async Task SetPermissionsAsync(string path, IReadOnlyList<XsPermission> perms, XsTransaction tx = default, CancellationToken ct = default) =>
        XsReplies.Ok(await RequestAsync(XsMessageType.SetPerms, tx, XsRequests.SetPermissions(path, perms), path, ct).ConfigureAwait(false));

    private async Task<IReadOnlyList<string>> DirectoryPartsAsync(string path, XsTransaction tx, CancellationToken ct)
    {
        for (int attempt = 0; attempt < DirectoryPartAttempts; attempt++)
        {
            var names = new List<string>();
            string? generation = null;
            int offset = 0;
            while (true)
            {
                byte[] reply = await RequestAsync(XsMessageType.DirectoryPart, tx, XsRequests.DirectoryPart(path, offset), path, ct).ConfigureAwait(false);
                (string gen, List<string> part, int consumed, bool complete) = XsReplies.DirectoryPart(reply);
                if (generation is not null && gen != generation)
                {
                    break;
                }

                generation = gen;
                names.AddRange(part);
                if (complete)
                {
                    return names;
                }

                if (consumed == 0)
                {
                    throw new XsProtocolException($"XenStore DIRECTORY_PART for {path} made no progress");
                }

                offset += consumed;
            }
        }

        throw new XenStoreException(XsError.EAGAIN, XsMessageType.DirectoryPart.WireName(), path);
    }
}
