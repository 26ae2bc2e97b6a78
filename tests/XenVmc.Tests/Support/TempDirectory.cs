namespace XenVmc.Tests.Support;

/// <summary>A fresh directory under /tmp, short enough for unix socket paths; removed with everything in it.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = "/tmp/xvt-" + Guid.NewGuid().ToString("N")[..12];
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
