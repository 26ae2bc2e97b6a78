namespace XenVmc.XenStore.Protocol;

/// <summary>
/// The C library's number parsers, re-implemented where XenStore semantics depend on their quirks:
/// <c>strtol(s, &amp;end, 0)</c> for permissions and <c>atoi</c> for domids.
/// </summary>
internal static class CStrtol
{
    /// <summary>
    /// strtol base 0 that must consume the whole input and at least one character, i.e. the
    /// <c>if (*end || !*p)</c> test of <c>xenstore_strings_to_perms</c>. Overflow saturates like glibc.
    /// </summary>
    public static bool TryParseWhole(ReadOnlySpan<char> s, out long value)
    {
        value = 0;
        if (s.IsEmpty)
        {
            return false;
        }

        int consumed = Parse(s, baseHint: 0, out value);
        return consumed == s.Length;
    }

    /// <summary><c>atoi</c>: leading space, sign, decimal digits, stop at the first other character; never fails.</summary>
    public static int Atoi(ReadOnlySpan<char> s)
    {
        Parse(s, baseHint: 10, out long value);
        return unchecked((int)value);
    }

    /// <summary>Returns how many characters strtol would consume (0 when no digits were found).</summary>
    private static int Parse(ReadOnlySpan<char> s, int baseHint, out long value)
    {
        value = 0;
        int i = 0;
        while (i < s.Length && s[i] is ' ' or '\t' or '\n' or '\v' or '\f' or '\r')
        {
            i++;
        }

        bool negative = false;
        if (i < s.Length && s[i] is '+' or '-')
        {
            negative = s[i] == '-';
            i++;
        }

        int numberBase = baseHint;
        if (baseHint == 0)
        {
            if (i + 1 < s.Length && s[i] == '0' && s[i + 1] is 'x' or 'X' && i + 2 < s.Length && Digit(s[i + 2]) is >= 0 and < 16)
            {
                numberBase = 16;
                i += 2;
            }
            else if (i < s.Length && s[i] == '0')
            {
                numberBase = 8;
            }
            else
            {
                numberBase = 10;
            }
        }

        int start = i;
        ulong magnitude = 0;
        bool overflow = false;
        while (i < s.Length && Digit(s[i]) is int d && d >= 0 && d < numberBase)
        {
            if (!overflow)
            {
                ulong next = (magnitude * (ulong)numberBase) + (ulong)d;
                if (next > (ulong)long.MaxValue + 1 || (magnitude != 0 && next / (ulong)numberBase != magnitude))
                {
                    overflow = true;
                }
                else
                {
                    magnitude = next;
                }
            }

            i++;
        }

        if (i == start)
        {
            return 0;
        }

        if (overflow)
        {
            value = negative ? long.MinValue : long.MaxValue;
        }
        else if (negative)
        {
            value = magnitude == (ulong)long.MaxValue + 1 ? long.MinValue : -(long)magnitude;
        }
        else
        {
            value = magnitude > long.MaxValue ? long.MaxValue : (long)magnitude;
        }

        return i;
    }

    private static int Digit(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'z' => c - 'a' + 10,
        >= 'A' and <= 'Z' => c - 'A' + 10,
        _ => -1,
    };
}
