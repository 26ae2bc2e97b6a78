using System.Text;
using XenVmc.Linux.Interop;

namespace XenVmc.Linux;

/// <summary>Interface names as the kernel takes them: at most IFNAMSIZ − 1 bytes plus a NUL.</summary>
internal static class InterfaceName
{
    internal const int MaxLength = Libc.IFNAMSIZ - 1;

    /// <summary>
    /// Copies <paramref name="name"/> into ifr_name. A longer name is refused here because the TUN driver
    /// would silently cut it at 15 bytes and attach to, or create, a different device.
    /// </summary>
    internal static unsafe void Write(ref Libc.ifreq ifr, string name, bool allowEmpty = false)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0 && !allowEmpty)
        {
            throw new ArgumentException("An interface name is required.", nameof(name));
        }

        int byteCount = Encoding.UTF8.GetByteCount(name);
        if (byteCount > MaxLength || name.Contains('\0'))
        {
            throw new ArgumentException(
                $"Interface name '{name}' is {byteCount} bytes; Linux allows at most {MaxLength} (IFNAMSIZ {Libc.IFNAMSIZ} with the NUL) and no NUL inside.",
                nameof(name));
        }

        fixed (byte* p = ifr.ifr_name)
        {
            var destination = new Span<byte>(p, Libc.IFNAMSIZ);
            destination.Clear();
            Encoding.UTF8.GetBytes(name, destination);
        }
    }

    internal static unsafe string Read(in Libc.ifreq ifr)
    {
        fixed (byte* p = ifr.ifr_name)
        {
            var source = new ReadOnlySpan<byte>(p, Libc.IFNAMSIZ);
            int end = source.IndexOf((byte)0);
            return Encoding.UTF8.GetString(end < 0 ? source : source[..end]);
        }
    }
}
