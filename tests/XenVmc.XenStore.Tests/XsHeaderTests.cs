using XenVmc.XenStore.Protocol;

namespace XenVmc.XenStore.Tests;

public sealed class XsHeaderTests
{
    [Fact]
    public void Layout_is_four_host_endian_words()
    {
        byte[] bytes = new byte[XsHeader.Size];
        new XsHeader(XsMessageType.Write, 0x01020304, 0x0a0b0c0d, 4096).Write(bytes);
        Assert.Equal("0b000000" + "04030201" + "0d0c0b0a" + "00100000", Hex.Of(bytes));
        Assert.Equal(new XsHeader(XsMessageType.Write, 0x01020304, 0x0a0b0c0d, 4096), XsHeader.Read(bytes));
    }

    [Fact]
    public void Short_input_is_a_protocol_error()
    {
        Assert.Throws<XsProtocolException>(() => XsHeader.Read(new byte[15]));
        Assert.Throws<ArgumentException>(() => new XsHeader(XsMessageType.Read, 1, 0, 0).Write(new byte[8]));
    }

    [Fact]
    public void Message_type_numbers_match_xs_wire()
    {
        (XsMessageType Type, uint Number)[] table =
        [
            (XsMessageType.Control, 0), (XsMessageType.Directory, 1), (XsMessageType.Read, 2), (XsMessageType.GetPerms, 3),
            (XsMessageType.Watch, 4), (XsMessageType.Unwatch, 5), (XsMessageType.TransactionStart, 6), (XsMessageType.TransactionEnd, 7),
            (XsMessageType.Introduce, 8), (XsMessageType.Release, 9), (XsMessageType.GetDomainPath, 10), (XsMessageType.Write, 11),
            (XsMessageType.Mkdir, 12), (XsMessageType.Rm, 13), (XsMessageType.SetPerms, 14), (XsMessageType.WatchEvent, 15),
            (XsMessageType.Error, 16), (XsMessageType.IsDomainIntroduced, 17), (XsMessageType.Resume, 18), (XsMessageType.SetTarget, 19),
            (XsMessageType.ResetWatches, 21), (XsMessageType.DirectoryPart, 22), (XsMessageType.GetFeature, 23), (XsMessageType.SetFeature, 24),
            (XsMessageType.GetQuota, 25), (XsMessageType.SetQuota, 26), (XsMessageType.TypeCount, 27), (XsMessageType.Invalid, 0xFFFF),
        ];
        foreach ((XsMessageType type, uint number) in table)
        {
            Assert.Equal(number, (uint)type);
        }
    }

    [Fact]
    public void Error_names_keep_xs_wire_order()
    {
        string[] names = ["EINVAL", "EACCES", "EEXIST", "EISDIR", "ENOENT", "ENOMEM", "ENOSPC", "EIO", "ENOTEMPTY", "ENOSYS", "EROFS", "EBUSY", "EAGAIN", "EISCONN", "E2BIG", "EPERM"];
        Assert.Equal(names, Enum.GetNames<XsError>());
        foreach (XsError e in Enum.GetValues<XsError>())
        {
            Assert.Equal(e.ToString() + "\0", System.Text.Encoding.ASCII.GetString(XsErrorNames.Payload(e)));
            Assert.Equal(e, XsErrorNames.Parse(e.ToString()));
        }

        Assert.Equal(XsError.EINVAL, XsErrorNames.Parse("ENOTSUP"));
        Assert.Equal(XsError.EINVAL, XsErrorNames.Parse("4"));
        Assert.Equal(XsError.EINVAL, XsErrorNames.Parse("enoent"));
    }
}
