using System.Runtime.ExceptionServices;

namespace XenVmc.Linux.Tests;

/// <summary>
/// Runs a test body on a fresh thread inside its own, empty network namespace. Network namespaces are per
/// thread in Linux, so nothing the body creates (TUNs, routes, addresses, sockets) is visible in the host
/// namespace, and the namespace goes away with the thread and the body's descriptors.
/// </summary>
internal static class NetnsThread
{
    public static void Run(Action body, int timeoutMs = 60_000)
    {
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                NetNamespace.UnshareCurrentThread();
                body();
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        })
        {
            IsBackground = true,
            Name = "netns test",
        };
        thread.Start();
        if (!thread.Join(timeoutMs))
        {
            throw new TimeoutException($"network-namespace test body still running after {timeoutMs} ms");
        }

        failure?.Throw();
    }
}
