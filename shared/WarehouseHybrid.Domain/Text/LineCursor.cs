namespace WarehouseHybrid.Domain.Text;

/// <summary>
/// Walks a text line by line without copying: each line comes back as a span without its
/// terminator ('\n', '\r\n' or a lone '\r' before '\n'). Line numbers are 1-based.
/// </summary>
internal sealed class LineCursor
{
    private readonly string _text;
    private int _pos;

    public LineCursor(string text) => _text = text;

    /// <summary>Number of the line last returned by <see cref="TryNext"/> (0 before the first).</summary>
    public int LineNumber { get; private set; }

    /// <summary>True when every line has been returned.</summary>
    public bool AtEnd => _pos >= _text.Length;

    /// <summary>The number the next line would get (for "file ends early" messages).</summary>
    public int NextLineNumber => LineNumber + 1;

    public bool TryNext(out ReadOnlySpan<char> line)
    {
        if (_pos >= _text.Length)
        {
            line = default;
            return false;
        }

        var rest = _text.AsSpan(_pos);
        var nl = rest.IndexOf('\n');
        if (nl < 0)
        {
            line = rest;
            _pos = _text.Length;
        }
        else
        {
            line = rest[..nl];
            _pos += nl + 1;
        }

        if (line.Length > 0 && line[^1] == '\r')
        {
            line = line[..^1];
        }

        LineNumber++;
        return true;
    }

    /// <summary>
    /// Whether everything after the current position is whitespace. Moves to the end; returns the
    /// number of the first non-blank line otherwise (and leaves the cursor after it).
    /// </summary>
    public bool RestIsBlank(out int firstNonBlankLine)
    {
        while (TryNext(out var line))
        {
            if (!line.IsWhiteSpace())
            {
                firstNonBlankLine = LineNumber;
                return false;
            }
        }

        firstNonBlankLine = 0;
        return true;
    }

    /// <summary>The number of the last line in the text (a final line break does not start a new line).</summary>
    public static int LastLineNumber(string text)
    {
        var count = text.AsSpan().Count('\n');
        return text.Length > 0 && text[^1] != '\n' ? count + 1 : Math.Max(count, 1);
    }
}
