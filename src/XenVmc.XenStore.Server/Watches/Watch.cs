using XenVmc.XenStore.Server.Connections;

namespace XenVmc.XenStore.Server.Watches;

/// <summary>One registered watch.</summary>
/// <param name="Connection">Who gets the events.</param>
/// <param name="Node">The canonical (absolute or special) path watched.</param>
/// <param name="Token">Echoed in every event, byte for byte.</param>
/// <param name="PrefixLength">Cut from event paths of a relative watch ("/local/domain/N/"), so they stay relative.</param>
internal sealed record Watch(StoreConnection Connection, string Node, string Token, int PrefixLength);
