using XenVmc.XenStore.Protocol;

namespace XenVmc.XenStore;

public sealed partial class XenStoreClient
{
    /// <summary>How often <see cref="TransactAsync{T}"/> runs the body before giving up with EAGAIN.</summary>
    internal const int TransactionAttempts = 16;

    public async Task<XsTransaction> StartTransactionAsync(CancellationToken ct = default) =>
        new(XsReplies.TransactionId(await RequestAsync(XsMessageType.TransactionStart, XsTransaction.None, XsRequests.Empty(), null, ct).ConfigureAwait(false)));

    /// <summary>Commits or aborts. False when the commit conflicted (EAGAIN): nothing was written and the transaction is gone.</summary>
    public async Task<bool> EndTransactionAsync(XsTransaction tx, bool commit, CancellationToken ct = default)
    {
        try
        {
            XsReplies.Ok(await RequestAsync(XsMessageType.TransactionEnd, tx, XsRequests.TransactionEnd(commit), null, ct).ConfigureAwait(false));
            return true;
        }
        catch (XenStoreException e) when (e.Error == XsError.EAGAIN && commit)
        {
            return false;
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/> in a transaction and commits it, running it again in a new
    /// transaction when the commit conflicts (or an operation inside reports EAGAIN), with a short
    /// randomized backoff, at most <see cref="TransactionAttempts"/> times. If the body throws, the
    /// transaction is aborted and the exception propagates.
    /// </summary>
    public async Task<T> TransactAsync<T>(Func<XsTransaction, Task<T>> body, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        for (int attempt = 1; ; attempt++)
        {
            XsTransaction tx = await StartTransactionAsync(ct).ConfigureAwait(false);
            T result;
            try
            {
                result = await body(tx).ConfigureAwait(false);
            }
            catch (XenStoreException e) when (e.Error == XsError.EAGAIN && attempt < TransactionAttempts)
            {
                await AbortQuietlyAsync(tx).ConfigureAwait(false);
                await BackoffAsync(attempt, ct).ConfigureAwait(false);
                continue;
            }
            catch
            {
                await AbortQuietlyAsync(tx).ConfigureAwait(false);
                throw;
            }

            if (await EndTransactionAsync(tx, commit: true, ct).ConfigureAwait(false))
            {
                return result;
            }

            if (attempt >= TransactionAttempts)
            {
                throw new XenStoreException(XsError.EAGAIN, XsMessageType.TransactionEnd.WireName(), null);
            }

            await BackoffAsync(attempt, ct).ConfigureAwait(false);
        }
    }

    public Task TransactAsync(Func<XsTransaction, Task> body, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        return TransactAsync<bool>(
            async tx =>
            {
                await body(tx).ConfigureAwait(false);
                return true;
            },
            ct);
    }

    /// <summary>Contenders retrying in lock step would conflict again; a random delay that grows spreads them.</summary>
    private static Task BackoffAsync(int attempt, CancellationToken ct) =>
        Task.Delay(Random.Shared.Next(0, 1 << Math.Min(attempt, 6)), ct);

    private async Task AbortQuietlyAsync(XsTransaction tx)
    {
        try
        {
            await EndTransactionAsync(tx, commit: false, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (XenStoreFailure.Is(e))
        {
            // The original failure matters more; the server drops the transaction with the connection anyway.
        }
    }
}
