using Microsoft.Extensions.Logging;
using XenVmc.XenStore.Server.Connections;

namespace XenVmc.XenStore.Server;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "XenStore listening on {Path}, domain sockets in {Directory}")]
    public static partial void Listening(ILogger logger, string path, string directory);

    [LoggerMessage(2, LogLevel.Debug, "{Connection} accepted")]
    public static partial void ConnectionAccepted(ILogger logger, StoreConnection connection);

    [LoggerMessage(3, LogLevel.Debug, "{Connection} closing: {Reason}")]
    public static partial void ConnectionClosing(ILogger logger, StoreConnection connection, string reason);

    [LoggerMessage(4, LogLevel.Error, "{Connection} failed")]
    public static partial void ConnectionFailed(ILogger logger, StoreConnection connection, Exception exception);

    [LoggerMessage(5, LogLevel.Information, "domain {DomId} introduced, socket {Path}")]
    public static partial void DomainIntroduced(ILogger logger, uint domId, string path);

    [LoggerMessage(6, LogLevel.Information, "domain {DomId} released")]
    public static partial void DomainReleased(ILogger logger, uint domId);

    [LoggerMessage(7, LogLevel.Warning, "could not remove socket {Path}")]
    public static partial void SocketRemoveFailed(ILogger logger, string path, Exception exception);

    [LoggerMessage(8, LogLevel.Error, "{Connection}: request {Type} failed unexpectedly; answered EIO")]
    public static partial void RequestFailed(ILogger logger, StoreConnection connection, string type, Exception exception);

    [LoggerMessage(9, LogLevel.Error, "cannot create the socket of domain {DomId} at {Path}")]
    public static partial void DomainSocketFailed(ILogger logger, uint domId, string path, Exception exception);
}
