using XenVmc.XenStore.Protocol;

namespace XenVmc.XenStore.Tests;

/// <summary>Reply payload shapes, and every way a server can get them wrong.</summary>
public sealed class XsRepliesTests
{
    [Fact]
    public void Decodes_well_formed_replies()
    {
        XsReplies.Ok("OK\0"u8);
        Assert.Equal(["a", "b"], XsReplies.Strings("a\0b\0"u8));
        Assert.Empty(XsReplies.Strings([]));
        Assert.Equal(17u, XsReplies.TransactionId("17\0"u8));
        Assert.True(XsReplies.TrueFalse("T\0"u8));
        Assert.False(XsReplies.TrueFalse("F\0"u8));
        Assert.Equal((XsError.EAGAIN, "EAGAIN"), XsReplies.Error("EAGAIN\0"u8));
        Assert.Equal(("/a/b", "tok"), XsReplies.WatchEvent("/a/b\0tok\0"u8));
        Assert.Equal([new XsPermission(XsAccess.None, 0), new XsPermission(XsAccess.Both, 3)], XsReplies.Permissions("n0\0b3\0"u8));

        (string gen, List<string> names, int consumed, bool complete) = XsReplies.DirectoryPart("12\0a\0bb\0\0"u8);
        Assert.Equal(("12", 5, true), (gen, consumed, complete));
        Assert.Equal(["a", "bb"], names);
        (gen, names, consumed, complete) = XsReplies.DirectoryPart("12\0a\0"u8);
        Assert.Equal(("12", 2, false), (gen, consumed, complete));
        Assert.Equal(["a"], names);
    }

    [Theory]
    [InlineData("Ok", "OK")]
    [InlineData("Ok", "OK\0\0")]
    [InlineData("Ok", "")]
    [InlineData("Strings", "a\0b")]
    [InlineData("TransactionId", "17")]
    [InlineData("TransactionId", "0\0")]
    [InlineData("TransactionId", "-1\0")]
    [InlineData("TransactionId", "4294967296\0")]
    [InlineData("TransactionId", "1 \0")]
    [InlineData("TrueFalse", "T")]
    [InlineData("TrueFalse", "Y\0")]
    [InlineData("Error", "ENOENT")]
    [InlineData("WatchEvent", "/a\0")]
    [InlineData("WatchEvent", "/a\0tok\0x")]
    [InlineData("Permissions", "q5\0")]
    [InlineData("Permissions", "")]
    [InlineData("SingleString", "/local/domain/5")]
    [InlineData("DirectoryPart", "5")]
    [InlineData("DirectoryPart", "5\0a\0\0junk")]
    public void Malformed_replies_throw_protocol_errors(string kind, string payload)
    {
        byte[] bytes = System.Text.Encoding.Latin1.GetBytes(payload);
        Assert.Throws<XsProtocolException>(() =>
        {
            switch (kind)
            {
                case "Ok": XsReplies.Ok(bytes); break;
                case "Strings": XsReplies.Strings(bytes); break;
                case "TransactionId": XsReplies.TransactionId(bytes); break;
                case "TrueFalse": XsReplies.TrueFalse(bytes); break;
                case "Error": XsReplies.Error(bytes); break;
                case "WatchEvent": XsReplies.WatchEvent(bytes); break;
                case "Permissions": XsReplies.Permissions(bytes); break;
                case "SingleString": XsReplies.SingleString(bytes); break;
                case "DirectoryPart": XsReplies.DirectoryPart(bytes); break;
                default: throw new ArgumentException(kind);
            }
        });
    }
}
