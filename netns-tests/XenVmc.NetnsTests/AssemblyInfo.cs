global using Xunit;

// The netns tests share one simulated host (fixed namespace names) and measure traffic:
// they run one at a time.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
