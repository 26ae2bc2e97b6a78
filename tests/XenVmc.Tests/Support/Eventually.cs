using System.Diagnostics;

namespace XenVmc.Tests.Support;

/// <summary>Polls a condition until it holds or a deadline passes: for state another task reaches asynchronously.</summary>
internal static class Eventually
{
    public static async Task<bool> TrueAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (await condition())
            {
                return true;
            }

            if (clock.Elapsed > timeout)
            {
                return false;
            }

            await Task.Delay(20);
        }
    }

    public static Task<bool> TrueAsync(Func<bool> condition, TimeSpan timeout) =>
        TrueAsync(() => Task.FromResult(condition()), timeout);

    public static async Task AssertAsync(Func<Task<bool>> condition, TimeSpan timeout, string what) =>
        Assert.True(await TrueAsync(condition, timeout), $"not within {timeout.TotalSeconds:0.#} s: {what}");

    public static async Task AssertAsync(Func<bool> condition, TimeSpan timeout, string what) =>
        Assert.True(await TrueAsync(condition, timeout), $"not within {timeout.TotalSeconds:0.#} s: {what}");
}
