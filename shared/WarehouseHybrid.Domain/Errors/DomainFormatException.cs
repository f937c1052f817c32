namespace WarehouseHybrid.Domain.Errors;

/// <summary>
/// A domain file (map, LoRR agents/tasks/config, Moving AI scenario) is malformed or inconsistent.
/// The message always starts with the file name and line, e.g.
/// <c>warehouse_small.map line 7: row 2 has 56 characters, expected 57</c>.
/// </summary>
public sealed class DomainFormatException : FormatException
{
    /// <summary>Creates the exception for a problem at a file position.</summary>
    /// <param name="file">The file (path or source name) the problem is in.</param>
    /// <param name="line">1-based line number.</param>
    /// <param name="column">1-based character column within the line, when known.</param>
    /// <param name="detail">What is wrong, without the location.</param>
    /// <param name="inner">The underlying exception, if any.</param>
    public DomainFormatException(string file, int line, int? column, string detail, Exception? inner = null)
        : base(Compose(file, line, column, detail), inner)
    {
        File = file;
        Line = line;
        Column = column;
        Detail = detail;
    }

    /// <summary>Creates the exception for a problem on a whole line.</summary>
    public DomainFormatException(string file, int line, string detail)
        : this(file, line, null, detail)
    {
    }

    /// <summary>The file (path or source name) the problem is in.</summary>
    public string File { get; }

    /// <summary>1-based line number of the problem.</summary>
    public int Line { get; }

    /// <summary>1-based character column within <see cref="Line"/>, when known.</summary>
    public int? Column { get; }

    /// <summary>What is wrong, without the location prefix.</summary>
    public string Detail { get; }

    private static string Compose(string file, int line, int? column, string detail)
    {
        var name = string.IsNullOrEmpty(file) ? "<input>" : Path.GetFileName(file);
        return column is { } c
            ? $"{name} line {line}, column {c}: {detail}"
            : $"{name} line {line}: {detail}";
    }
}
