using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace XenVmc.Tests.Support;

/// <summary>Keeps every formatted message, so a test can assert that something was (or was not) logged.</summary>
internal sealed class CapturingLogger : ILogger
{
    private readonly ConcurrentQueue<(LogLevel Level, string Message)> _entries = new();

    public IReadOnlyList<(LogLevel Level, string Message)> Entries => [.. _entries];

    public int Count(string fragment) => _entries.Count(e => e.Message.Contains(fragment, StringComparison.Ordinal));

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _entries.Enqueue((logLevel, formatter(state, exception)));
}
