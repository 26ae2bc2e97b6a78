using System.Globalization;
using System.Text.RegularExpressions;

namespace XenVmc.NetnsTests;

/// <summary>
/// A ping stream running in the background while a test switches paths under it; afterwards,
/// which sequence numbers were lost and how long the longest gap was.
/// </summary>
internal sealed partial class Pinger
{
    private readonly Task<(int Exit, string Output, string Error)> _run;

    private Pinger(string netns, string address, int count, double interval)
    {
        Interval = interval;
        _run = Task.Run(() => SimHost.Exec(netns, "ping", "-n", "-i", interval.ToString(CultureInfo.InvariantCulture), "-c", count.ToString(CultureInfo.InvariantCulture), "-W", "1", address));
    }

    public double Interval { get; }

    public static Pinger Start(string netns, string address, int count, double interval = 0.02) => new(netns, address, count, interval);

    public Result Wait()
    {
        var (_, output, error) = _run.Result;
        var match = SummaryLine().Match(output);
        Assert.True(match.Success, $"ping printed no summary: {output}{error}");
        int sent = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        var received = SequenceNumber().Matches(output).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToHashSet();
        var lost = Enumerable.Range(1, sent).Where(s => !received.Contains(s)).ToList();
        int longestRun = 0;
        for (int i = 0, run = 0; i < lost.Count; i++)
        {
            run = i > 0 && lost[i] == lost[i - 1] + 1 ? run + 1 : 1;
            longestRun = Math.Max(longestRun, run);
        }

        return new Result(sent, received.Count, lost, TimeSpan.FromSeconds(longestRun * Interval));
    }

    public sealed record Result(int Sent, int Received, IReadOnlyList<int> Lost, TimeSpan LongestGap)
    {
        public override string ToString() => $"{Sent} sent, {Received} received, {Lost.Count} lost ({string.Join(',', Lost.Take(40))}), longest gap {LongestGap.TotalMilliseconds:0} ms";
    }

    [GeneratedRegex(@"(\d+) packets transmitted, (\d+) received")]
    private static partial Regex SummaryLine();

    [GeneratedRegex(@"icmp_seq=(\d+) ")]
    private static partial Regex SequenceNumber();
}
