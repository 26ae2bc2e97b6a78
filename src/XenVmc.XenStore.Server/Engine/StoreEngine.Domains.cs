using Microsoft.Extensions.Logging;
using XenVmc.XenStore.Protocol;
using XenVmc.XenStore.Server.Connections;
using XenVmc.XenStore.Server.Domains;
using XenVmc.XenStore.Server.Store;

namespace XenVmc.XenStore.Server.Engine;

internal sealed partial class StoreEngine
{
    private const string IntroduceDomain = "@introduceDomain";
    private const string ReleaseDomain = "@releaseDomain";

    /// <summary>
    /// do_introduce(): <c>domid\0mfn\0port\0</c>. A new domain gets its socket and fires
    /// @introduceDomain; introducing one again resets its connections (watches and transactions
    /// dropped, as xenstored resets the ring) and fires nothing.
    /// </summary>
    private void Introduce(in Request request)
    {
        List<string> args = RequestArgs.Strings(request.Payload);
        if (args.Count < 3)
        {
            throw new StoreErrorException(XsError.EINVAL);
        }

        uint domid = unchecked((uint)CStrtol.Atoi(args[0]));
        int port = CStrtol.Atoi(args[2]);
        if (port <= 0)
        {
            throw new StoreErrorException(XsError.EINVAL);
        }

        // A real xenstored fails to map the ring of an id that is no domain.
        DomainState domain = _database.Domains.FindOrCreate(domid, _database.Generation) ?? throw new StoreErrorException(XsError.EINVAL);
        if (!domain.Introduced)
        {
            string path = Path.Combine(_options.DomainSocketDirectory, domid.ToString(System.Globalization.CultureInfo.InvariantCulture));
            try
            {
                domain.Listener = SocketListener.Start(path, domid, Accept, _logger);
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException)
            {
                Log.DomainSocketFailed(_logger, domid, path, e);
                throw new StoreErrorException(XsError.EIO);
            }

            domain.Introduced = true;
            Log.DomainIntroduced(_logger, domid, path);
            FireSpecial(IntroduceDomain);
        }
        else
        {
            foreach (StoreConnection connection in domain.Connections)
            {
                _watches.RemoveAll(connection);
                connection.Transactions.Clear();
            }
        }

        request.Ok();
    }

    /// <summary>
    /// do_release(): Dom0 cannot be released (EINVAL), an unknown domain is ENOENT. The domain's socket
    /// and connections go (their watches first, so its own nodes' removal fires nothing at it), the nodes
    /// it owns are deleted as xenstored deletes orphans, then @releaseDomain fires.
    /// </summary>
    private void Release(in Request request)
    {
        DomainState domain = OneArgDomain(request);
        uint domid = domain.DomId;
        domain.Listener?.Stop();
        domain.Listener = null;
        foreach (StoreConnection connection in domain.Connections.ToArray())
        {
            _watches.RemoveAll(connection);
            connection.Transactions.Clear();
            connection.Abort($"domain {domid} released");
        }

        domain.Connections.Clear();
        if (domain.NodeCount > 0)
        {
            RemoveOwnedNodes(StorePaths.Root, domid);
        }

        _database.Domains.Remove(domid);
        Log.DomainReleased(_logger, domid);
        FireSpecial(ReleaseDomain);
        request.Ok();
    }

    private void Resume(in Request request)
    {
        OneArgDomain(request);
        request.Ok();
    }

    /// <summary>do_set_target(): <c>domid\0target\0</c>, both introduced; the first then acts with the second's rights.</summary>
    private void SetTarget(in Request request)
    {
        List<string> args = RequestArgs.Strings(request.Payload);
        if (args.Count < 2)
        {
            throw new StoreErrorException(XsError.EINVAL);
        }

        DomainState domain = ConnectedDomain(unchecked((uint)CStrtol.Atoi(args[0])));
        DomainState target = ConnectedDomain(unchecked((uint)CStrtol.Atoi(args[1])));
        domain.Target = target.DomId;
        request.Ok();
    }

    /// <summary>do_get_domain_path(): any number, even of a domain that does not exist, as xenstored.</summary>
    private static void GetDomainPath(in Request request)
    {
        string arg = RequestArgs.OneArg(request.Payload) ?? throw new StoreErrorException(XsError.EINVAL);
        uint domid = unchecked((uint)CStrtol.Atoi(arg));
        request.Reply(RequestArgs.Bytes.GetBytes($"/local/domain/{domid}\0"));
    }

    private void IsDomainIntroduced(in Request request)
    {
        string arg = RequestArgs.OneArg(request.Payload) ?? throw new StoreErrorException(XsError.EINVAL);
        uint domid = unchecked((uint)CStrtol.Atoi(arg));
        bool introduced = domid == DomainTable.Self || _database.Domains.Find(domid) is { Introduced: true };
        request.Reply(introduced ? "T\0"u8 : "F\0"u8);
    }

    /// <summary>onearg_domain(): EINVAL for a malformed argument or Dom0, ENOENT for a domain not introduced.</summary>
    private DomainState OneArgDomain(in Request request)
    {
        string arg = RequestArgs.OneArg(request.Payload) ?? throw new StoreErrorException(XsError.EINVAL);
        uint domid = unchecked((uint)CStrtol.Atoi(arg));
        return domid == 0 ? throw new StoreErrorException(XsError.EINVAL) : ConnectedDomain(domid);
    }

    private DomainState ConnectedDomain(uint domid) =>
        _database.Domains.Find(domid) is { Introduced: true } domain ? domain : throw new StoreErrorException(XsError.ENOENT);

    /// <summary>fire_special_watches(): exact watches on the special node, filtered by its ACL.</summary>
    private void FireSpecial(string name) => _global.Fire(name, exact: true, _database.Get(name), oldPerms: null);

    /// <summary>domain_tree_remove(): pre-order walk; a node the domain owns is removed with its subtree.</summary>
    private void RemoveOwnedNodes(string path, uint domid)
    {
        Node? node = _database.Get(path);
        if (node is null)
        {
            return;
        }

        if (node.Owner == domid && path != StorePaths.Root)
        {
            RemoveNode(_global, path);
            return;
        }

        foreach (string child in node.Children)
        {
            RemoveOwnedNodes(StorePaths.Child(path, child), domid);
        }
    }
}
