using XenVmc.XenStore.Server.Store;
using XenVmc.XenStore.Server.Watches;

namespace XenVmc.XenStore.Server.Engine;

internal sealed partial class StoreEngine
{
    /// <summary>
    /// do_watch(): exactly <c>path\0token\0</c>. The reply is followed at once by an event for the
    /// watched path itself, which is sent whatever the permissions.
    /// </summary>
    private void AddWatch(in Request request)
    {
        List<string> args = RequestArgs.Strings(request.Payload);
        if (args.Count != 2)
        {
            throw new StoreErrorException(XsError.EINVAL);
        }

        string path = args[0];
        string token = args[1];
        bool relative = !path.StartsWith('/') && !path.StartsWith('@');
        string name = Canonicalize(request.Connection, path, allowSpecial: true);
        if (request.Connection.Watches.Exists(w => w.Node == name && w.Token == token))
        {
            throw new StoreErrorException(XsError.EEXIST);
        }

        // xenstored compares the count before adding with '>', so the quota plus one fit.
        if (request.Unprivileged && request.Connection.Watches.Count > _options.Quotas.Watches)
        {
            throw new StoreErrorException(XsError.E2BIG);
        }

        var watch = new Watch(request.Connection, name, token, relative ? request.Connection.ImplicitPath.Length + 1 : 0);
        _watches.Add(watch);
        request.Ok();
        request.Connection.SendEvent(name[watch.PrefixLength..], token);
    }

    private void RemoveWatch(in Request request)
    {
        List<string> args = RequestArgs.Strings(request.Payload);
        if (args.Count != 2)
        {
            throw new StoreErrorException(XsError.EINVAL);
        }

        string name = Canonicalize(request.Connection, args[0], allowSpecial: true);
        string token = args[1];
        Watch? watch = request.Connection.Watches.Find(w => w.Node == name && w.Token == token);
        if (watch is null)
        {
            throw new StoreErrorException(XsError.ENOENT);
        }

        _watches.Remove(watch);
        request.Ok();
    }

    /// <summary>do_reset_watches(): drops the connection's watches and its transactions.</summary>
    private void ResetWatches(in Request request)
    {
        _watches.RemoveAll(request.Connection);
        request.Connection.Transactions.Clear();
        request.Ok();
    }
}
