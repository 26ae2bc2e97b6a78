namespace XenVmc.Sim;

/// <summary>
/// Stopping an iperf3 server that was started with <c>-I pidfile</c>: by its own pid, never by
/// name, which would also kill other iperf3 processes on a shared machine. Compiled into the
/// netns tests too.
/// </summary>
internal static class IperfServer
{
    public static void Stop(string pidFile)
    {
        try
        {
            if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out int pid)
                && File.ReadAllText($"/proc/{pid}/comm").Trim() == "iperf3")
            {
                using var process = System.Diagnostics.Process.GetProcessById(pid);
                process.Kill();
                process.WaitForExit(2000);
            }
        }
        catch (Exception e) when (e is IOException or ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Already gone: a one-shot server exits after its test.
        }
        finally
        {
            File.Delete(pidFile);
        }
    }
}
