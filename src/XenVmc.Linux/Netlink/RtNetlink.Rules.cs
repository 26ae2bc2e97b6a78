using System.Net;
using System.Net.Sockets;
using XenVmc.Linux.Interop;

namespace XenVmc.Linux;

public sealed partial class RtNetlink
{
    /// <summary>"ip rule add": fails with EEXIST when the same rule exists.</summary>
    public void AddRule(RuleSpec rule)
    {
        Errno errno = ModifyRuleCore(Libc.RTM_NEWRULE, Libc.NLM_F_CREATE | Libc.NLM_F_EXCL, rule, out string? kernelMessage);
        if (errno is not (0 or Errno.EEXIST))
        {
            throw new LinuxException(errno, "add rule", rule.ToString(), kernelMessage);
        }
    }

    /// <summary>"ip rule del" of exactly this rule.</summary>
    /// <returns>False when no such rule existed.</returns>
    public bool DeleteRule(RuleSpec rule)
    {
        Errno errno = ModifyRuleCore(Libc.RTM_DELRULE, 0, rule, out string? kernelMessage);
        return errno switch
        {
            0 => true,
            Errno.ESRCH or Errno.ENOENT => false,
            _ => throw new LinuxException(errno, "delete rule", rule.ToString(), kernelMessage),
        };
    }

    /// <summary>The "lookup table" rules of a protocol, IPv4 and IPv6.</summary>
    public IReadOnlyList<RuleSpec> ListRules(byte protocol)
    {
        var rules = new List<RuleSpec>();
        foreach (byte af in (ReadOnlySpan<byte>)[Libc.AF_INET, Libc.AF_INET6])
        {
            rules.AddRange(DumpRules(af, protocol));
        }

        return rules;
    }

    /// <summary>"ip rule flush proto N", IPv4 and IPv6: removes the rules a previous run left.</summary>
    public int FlushRules(byte protocol)
    {
        ArgumentOutOfRangeException.ThrowIfZero(protocol);
        return ListRules(protocol).Count(DeleteRule);
    }

    private Errno ModifyRuleCore(ushort type, ushort flags, RuleSpec rule, out string? kernelMessage)
    {
        ArgumentNullException.ThrowIfNull(rule);
        rule.Validate();
        lock (_lock)
        {
            Span<byte> buffer = stackalloc byte[RequestBufferSize];
            int length = WriteRuleRequest(buffer, type, flags, NextSequence(), rule);
            return Transact(buffer[..length], type == Libc.RTM_DELRULE ? "delete rule" : "add rule", rule.ToString(), null, out kernelMessage, out _);
        }
    }

    /// <summary>An RTM_NEWRULE/RTM_DELRULE request as "ip rule add|del from P [iif I] lookup T pref N proto P" builds it.</summary>
    internal static int WriteRuleRequest(Span<byte> buffer, ushort type, ushort flags, uint sequence, RuleSpec rule)
    {
        var request = new NetlinkRequestWriter(buffer, type, (ushort)(Libc.NLM_F_REQUEST | Libc.NLM_F_ACK | flags), sequence);
        request.Append(new Libc.fib_rule_hdr
        {
            family = (byte)(rule.Family == AddressFamily.InterNetwork ? Libc.AF_INET : Libc.AF_INET6),
            src_len = (byte)rule.SourceLength,
            table = rule.Table < 256 ? (byte)rule.Table : Libc.RT_TABLE_UNSPEC,
            action = Libc.FR_ACT_TO_TBL,
            flags = rule.FindSource ? Libc.FIB_RULE_FIND_SADDR : 0,
        });
        request.AppendAttribute(Libc.FRA_TABLE, rule.Table);
        request.AppendAttribute(Libc.FRA_PRIORITY, rule.Priority);
        request.AppendAttribute(Libc.FRA_PROTOCOL, [rule.Protocol]);
        if (rule.SourceLength > 0)
        {
            request.AppendAttribute(Libc.FRA_SRC, rule.Source);
        }

        if (rule.InputInterface is not null)
        {
            request.AppendAttribute(Libc.FRA_IIFNAME, rule.InputInterface);
        }

        return request.Finish().Length;
    }

    private List<RuleSpec> DumpRules(byte af, byte protocol)
    {
        var rules = new List<RuleSpec>();
        int Build(Span<byte> buffer, uint sequence)
        {
            var request = new NetlinkRequestWriter(buffer, Libc.RTM_GETRULE, Libc.NLM_F_REQUEST | Libc.NLM_F_DUMP, sequence);
            request.Append(new Libc.fib_rule_hdr { family = af });
            return request.Finish().Length;
        }

        void OnReply(in NetlinkMessage message)
        {
            if (message.Type == Libc.RTM_NEWRULE && TryParseRule(message, af, out RuleSpec? rule) && rule.Protocol == protocol)
            {
                rules.Add(rule);
            }
        }

        lock (_lock)
        {
            Dump(Build, "list", $"{(af == Libc.AF_INET ? "IPv4" : "IPv6")} rules, proto {protocol}", OnReply, rules.Clear);
        }

        return rules;
    }

    private static bool TryParseRule(in NetlinkMessage message, byte family, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RuleSpec? rule)
    {
        rule = null;
        var header = message.ReadHeader<Libc.fib_rule_hdr>();
        if (header.family != family || header.action != Libc.FR_ACT_TO_TBL)
        {
            return false;
        }

        IPAddress source = family == Libc.AF_INET ? IPAddress.Any : IPAddress.IPv6Any;
        string? iif = null;
        uint table = header.table, priority = 0;
        byte protocol = 0;
        NetlinkAttributeReader attributes = message.Attributes<Libc.fib_rule_hdr>();
        while (attributes.TryRead(out ushort type, out ReadOnlySpan<byte> value))
        {
            switch (type)
            {
                case Libc.FRA_SRC:
                    source = NetlinkAttributeReader.ReadAddress(value, type);
                    break;
                case Libc.FRA_IIFNAME:
                    iif = System.Text.Encoding.UTF8.GetString(value).TrimEnd('\0');
                    break;
                case Libc.FRA_TABLE:
                    table = NetlinkAttributeReader.ReadUInt32(value, type);
                    break;
                case Libc.FRA_PRIORITY:
                    priority = NetlinkAttributeReader.ReadUInt32(value, type);
                    break;
                case Libc.FRA_PROTOCOL when value.Length >= 1:
                    protocol = value[0];
                    break;
            }
        }

        rule = new RuleSpec(source, header.src_len, table, priority, protocol, iif, (header.flags & Libc.FIB_RULE_FIND_SADDR) != 0);
        return true;
    }
}
