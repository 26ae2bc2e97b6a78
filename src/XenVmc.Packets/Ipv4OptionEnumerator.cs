namespace XenVmc.Packets;

/// <summary>One IPv4 option: its type byte and the bytes after the type and length bytes.</summary>
public readonly ref struct Ipv4Option
{
    internal Ipv4Option(byte type, ReadOnlySpan<byte> data)
    {
        Type = type;
        Data = data;
    }

    public byte Type { get; }

    public ReadOnlySpan<byte> Data { get; }
}

/// <summary>
/// Walks IPv4 options (RFC 791 §3.1): type 0 ends the list, type 1 is a one-byte no-op, every
/// other option is type, length (counting type and length, so at least 2), data.
/// </summary>
public ref struct Ipv4OptionEnumerator
{
    public const byte EndOfOptionList = 0;
    public const byte NoOperation = 1;

    private readonly ReadOnlySpan<byte> _options;
    private int _next;

    public Ipv4OptionEnumerator(ReadOnlySpan<byte> options)
    {
        _options = options;
        _next = 0;
        Current = default;
    }

    public Ipv4Option Current { get; private set; }

    public readonly Ipv4OptionEnumerator GetEnumerator() => this;

    /// <summary>Moves to the next option; stops at the end, at end-of-list, or at a malformed option.</summary>
    public bool MoveNext()
    {
        int i = _next;
        if (i >= _options.Length || _options[i] == EndOfOptionList)
        {
            _next = _options.Length;
            return false;
        }

        if (_options[i] == NoOperation)
        {
            Current = new Ipv4Option(NoOperation, default);
            _next = i + 1;
            return true;
        }

        if (i + 1 >= _options.Length || _options[i + 1] < 2 || _options[i + 1] > _options.Length - i)
        {
            _next = _options.Length;
            return false;
        }

        int length = _options[i + 1];
        Current = new Ipv4Option(_options[i], _options.Slice(i + 2, length - 2));
        _next = i + length;
        return true;
    }

    /// <summary>True when every option up to end-of-list has a length that fits.</summary>
    public static bool AreWellFormed(ReadOnlySpan<byte> options)
    {
        int i = 0;
        while (i < options.Length)
        {
            byte type = options[i];
            if (type == EndOfOptionList)
            {
                return true;
            }

            if (type == NoOperation)
            {
                i++;
                continue;
            }

            if (i + 1 >= options.Length)
            {
                return false;
            }

            int length = options[i + 1];
            if (length < 2 || length > options.Length - i)
            {
                return false;
            }

            i += length;
        }

        return true;
    }
}
