namespace XenVmc.XenStore.Server.Store;

/// <summary>
/// A request fails with this XS_ERROR. Thrown from deep inside an operation and turned into the
/// error reply in one place; nothing has been changed when it is thrown except where a transaction
/// is marked failed, as xenstored does.
/// </summary>
internal sealed class StoreErrorException(XsError error) : Exception(error.ToString())
{
    public XsError Error { get; } = error;
}
