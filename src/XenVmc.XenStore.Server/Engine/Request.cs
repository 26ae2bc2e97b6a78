using XenVmc.XenStore.Protocol;
using XenVmc.XenStore.Server.Connections;
using XenVmc.XenStore.Server.Store;

namespace XenVmc.XenStore.Server.Engine;

/// <summary>One request being handled: who sent it, its header and payload, and the view it acts through.</summary>
internal readonly ref struct Request(StoreConnection connection, XsHeader header, ReadOnlySpan<byte> payload, NodeView view)
{
    public StoreConnection Connection { get; } = connection;

    public XsHeader Header { get; } = header;

    public ReadOnlySpan<byte> Payload { get; } = payload;

    public NodeView View { get; } = view;

    public StoreTransaction? Transaction => View.Transaction;

    public bool Unprivileged => !Connection.Privileged;

    public void Reply(ReadOnlySpan<byte> payload) => Connection.SendReply(Header, payload);

    public void Ok() => Connection.SendReply(Header, "OK\0"u8);
}
