using XenVmc.Guest.Channels;

namespace XenVmc.Tests.Guest.Channels;

public sealed class GrantBudgetTests
{
    [Fact]
    public void ChannelPages_AreTheControlPageAndBothRings() => Assert.Equal(257, GrantBudget.ChannelPages(512 * 1024));

    [Fact]
    public async Task Reserve_PastTheLimit_Fails_AndItsTaskCompletesWhenPagesAreReleased()
    {
        var budget = new GrantBudget(1024);
        for (int i = 0; i < 3; i++)
        {
            Assert.True(budget.TryReserve(257, out _));
        }

        Assert.False(budget.TryReserve(257, out var freed));
        Assert.Equal(771, budget.Used);
        Assert.False(freed.IsCompleted);

        budget.Release(257);
        await freed.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.True(budget.TryReserve(257, out _));
        Assert.False(budget.TryReserve(257, out _));
    }

    [Fact]
    public void UnknownLimit_RefusesNothing()
    {
        var budget = new GrantBudget(null);
        Assert.True(budget.TryReserve(1 << 20, out _));
    }
}
