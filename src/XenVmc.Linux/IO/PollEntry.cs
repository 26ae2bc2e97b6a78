namespace XenVmc.Linux;

/// <summary>A descriptor and the <see cref="Poll"/>.POLL* events to wait for.</summary>
public readonly record struct PollEntry(SafeFileDescriptor Fd, short Events);
