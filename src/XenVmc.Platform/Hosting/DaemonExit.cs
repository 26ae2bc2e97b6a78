namespace XenVmc.Platform.Hosting;

/// <summary>The exit status a hosted daemon ends with: 0 after a requested stop, 1 when its work failed.</summary>
public sealed class DaemonExit
{
    private int _code;

    public int Code => Volatile.Read(ref _code);

    public void Failed() => Volatile.Write(ref _code, 1);
}
