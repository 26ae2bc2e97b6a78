using System.Diagnostics;

namespace XenVmc.XenStore.Tests;

/// <summary>
/// Debian's real xenstore-utils (libxenstore 4.17) against the simulated store, checking their exact
/// output. A missing tool fails the test with the package to install.
/// </summary>
public sealed class XenstoreUtilsTests
{
    [Fact]
    public async Task Write_read_list_ls_chmod_rm()
    {
        await using TestStore store = await TestStore.StartAsync();
        Assert.Equal("", await RunAsync(store, "xenstore-write", "/vm/a", "hello", "/vm/b/c", "x y"));
        Assert.Equal("hello\n", await RunAsync(store, "xenstore-read", "/vm/a"));
        Assert.Equal("/vm/a: hello\n/vm/b/c: x y\n", await RunAsync(store, "xenstore-read", "-p", "/vm/a", "/vm/b/c"));
        Assert.Equal("a\nb\n", await RunAsync(store, "xenstore-list", "/vm"));
        Assert.Equal("/vm/a\n/vm/b\n", await RunAsync(store, "xenstore-list", "-p", "/vm"));
        Assert.Equal("", await RunAsync(store, "xenstore-chmod", "/vm/a", "n0", "r5"));

        // xenstore-ls pads to column 60 with ". " when stdout is not a terminal (80 columns).
        Assert.Equal(
            "a = \"hello\"  . . . . . . . . . . . . . . . . . . . . . . . .  (n0,r5)\n" +
            "b = \"\" . . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)\n" +
            " c = \"x y\" . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)\n",
            await RunAsync(store, "xenstore-ls", "-p", "/vm"));
        Assert.Equal("", await RunAsync(store, "xenstore-rm", "/vm/b"));
        Assert.Equal("a\n", await RunAsync(store, "xenstore-list", "/vm"));
    }

    [Fact]
    public async Task Fresh_store_has_the_tree_xenstored_creates()
    {
        await using TestStore store = await TestStore.StartAsync();
        Assert.Equal("tool = \"\"\n xenstored = \"\"\n", await RunAsync(store, "xenstore-ls"));
        Assert.Equal("/tool = \"\"\n/tool/xenstored = \"\"\n", await RunAsync(store, "xenstore-ls", "-f"));
    }

    [Fact]
    public async Task Values_are_escaped_and_unescaped_like_the_tools_do()
    {
        await using TestStore store = await TestStore.StartAsync();
        await RunAsync(store, "xenstore-write", "/esc", "tab\\there\\x01\\\\");
        await using XenStoreClient client = XenStoreClient.ConnectSocket(store.SocketPath);
        Assert.Equal("tab\there\u0001\\"u8.ToArray(), await client.ReadAsync("/esc"));
        Assert.Equal("tab\\there\\001\\\\\n", await RunAsync(store, "xenstore-read", "/esc"));
    }

    [Fact]
    public async Task Chmod_recursive_and_errors_reach_the_tools()
    {
        await using TestStore store = await TestStore.StartAsync();
        await RunAsync(store, "xenstore-write", "/d/x", "1", "/d/y/z", "2");
        await RunAsync(store, "xenstore-chmod", "-r", "/d", "b3", "r7");
        // -f sets no padding column, so one space, then "  (" as always.
        Assert.Equal(
            "/d/x = \"1\"   (b3,r7)\n/d/y = \"\"   (b3,r7)\n/d/y/z = \"2\"   (b3,r7)\n",
            await RunAsync(store, "xenstore-ls", "-f", "-p", "/d"));
        await using XenStoreClient client = XenStoreClient.ConnectSocket(store.SocketPath);
        Assert.Equal([new XsPermission(XsAccess.Both, 3), new XsPermission(XsAccess.Read, 7)], await client.GetPermissionsAsync("/d"));

        (int code, string stdout, string stderr) = await RunRawAsync(store, "xenstore-read", "/nonexistent");
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Equal("xenstore-read: couldn't read path /nonexistent\n", stderr);

        (code, _, stderr) = await RunRawAsync(store, "xenstore-rm", "/no/such/parent");
        Assert.Equal(1, code);
        Assert.Equal("xenstore-rm: could not remove path /no/such/parent\n", stderr);
    }

    [Fact]
    public async Task Watch_prints_registration_then_changes_below()
    {
        await using TestStore store = await TestStore.StartAsync();
        string path = Path.Combine("/usr/bin", "xenstore-watch");
        Assert.True(File.Exists(path), $"{path} is missing: install the Debian package xenstore-utils (apt-get install xenstore-utils)");
        using Process watch = Start(store, "xenstore-watch", "-n", "4", "/w");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            Assert.Equal("/w", await watch.StandardOutput.ReadLineAsync(timeout.Token));
            await using XenStoreClient client = XenStoreClient.ConnectSocket(store.SocketPath);
            await client.WriteAsync("/w/a", "1");
            await client.WriteAsync("/elsewhere", "1");
            await client.MkdirAsync("/w/b/c");
            await client.RmAsync("/w");
            Assert.Equal("/w/a", await watch.StandardOutput.ReadLineAsync(timeout.Token));
            Assert.Equal("/w/b/c", await watch.StandardOutput.ReadLineAsync(timeout.Token));
            Assert.Equal("/w", await watch.StandardOutput.ReadLineAsync(timeout.Token));
            await watch.WaitForExitAsync(timeout.Token);
            Assert.Equal(0, watch.ExitCode);
        }
        finally
        {
            if (!watch.HasExited)
            {
                watch.Kill();
            }
        }
    }

    internal static async Task<string> RunAsync(TestStore store, string tool, params string[] args)
    {
        (int code, string stdout, string stderr) = await RunRawAsync(store, tool, args);
        Assert.True(code == 0, $"{tool} {string.Join(' ', args)} exited {code}: {stderr}");
        return stdout;
    }

    internal static async Task<(int Code, string Stdout, string Stderr)> RunRawAsync(TestStore store, string tool, params string[] args)
    {
        using Process process = Start(store, tool, args);
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new TimeoutException($"{tool} {string.Join(' ', args)} did not finish in 20 s");
        }

        return (process.ExitCode, await stdout, await stderr);
    }

    private static Process Start(TestStore store, string tool, params string[] args)
    {
        string path = Path.Combine("/usr/bin", tool);
        Assert.True(File.Exists(path), $"{path} is missing: install the Debian package xenstore-utils (apt-get install xenstore-utils)");
        var start = new ProcessStartInfo(path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["XENSTORED_PATH"] = store.SocketPath;
        Process process = Process.Start(start)!;
        process.StandardInput.Close();
        return process;
    }
}
