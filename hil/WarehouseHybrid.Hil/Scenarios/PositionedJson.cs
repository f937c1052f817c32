using System.Globalization;
using System.Text;
using System.Text.Json;

namespace WarehouseHybrid.Hil.Scenarios;

/// <summary>A JSON value with the line and column it started at, so a scenario error can name where it is.</summary>
internal sealed class JsonNodeAt
{
    public JsonTokenType Kind { get; init; }
    public int Line { get; init; }
    public int Column { get; init; }
    public string Path { get; init; } = "$";
    public string? Text { get; init; }
    public double Number { get; init; }
    public bool Bool { get; init; }
    public List<(string Name, JsonNodeAt Value)> Properties { get; } = [];
    public List<JsonNodeAt> Items { get; } = [];

    public bool IsObject => Kind == JsonTokenType.StartObject;

    public bool IsArray => Kind == JsonTokenType.StartArray;

    public string Describe() => Kind switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => $"the string \"{Text}\"",
        JsonTokenType.Number => $"the number {Number.ToString(CultureInfo.InvariantCulture)}",
        JsonTokenType.True or JsonTokenType.False => Bool ? "true" : "false",
        _ => "null",
    };

    /// <summary>Parses UTF-8 JSON (comments and trailing commas allowed) into positioned nodes.</summary>
    /// <exception cref="ScenarioException">Bad JSON, naming the line and column.</exception>
    public static JsonNodeAt Parse(string file, byte[] utf8)
    {
        var lines = LineStarts(utf8);
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, MaxDepth = 64 });
        try
        {
            if (!reader.Read())
            {
                throw new ScenarioException(file, 1, 1, "$", "the file is empty; a scenario is a JSON object");
            }

            return ReadValue(ref reader, file, lines, "$");
        }
        catch (JsonException ex)
        {
            throw new ScenarioException(file, (int)(ex.LineNumber ?? 0) + 1, (int)(ex.BytePositionInLine ?? 0) + 1, ex.Path ?? "$", "not valid JSON: " + FirstSentence(ex.Message));
        }
        catch (InvalidOperationException ex) when (ex.InnerException is DecoderFallbackException)
        {
            // A string with invalid UTF-8: the reader stopped on its token.
            var (line, column) = Position(lines, reader.TokenStartIndex);
            throw new ScenarioException(file, line, column, "$", "a string is not valid UTF-8");
        }
    }

    private static string FirstSentence(string message)
    {
        var i = message.IndexOf(" LineNumber", StringComparison.Ordinal);
        return (i > 0 ? message[..i] : message).TrimEnd(' ', '.');
    }

    private static JsonNodeAt ReadValue(ref Utf8JsonReader reader, string file, int[] lines, string path)
    {
        var (line, column) = Position(lines, reader.TokenStartIndex);
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
            {
                var node = new JsonNodeAt { Kind = JsonTokenType.StartObject, Line = line, Column = column, Path = path };
                while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                {
                    var name = reader.GetString()!;
                    var (nl, nc) = Position(lines, reader.TokenStartIndex);
                    if (node.Properties.Any(p => p.Name == name))
                    {
                        throw new ScenarioException(file, nl, nc, $"{path}.{name}", $"field '{name}' appears twice");
                    }

                    reader.Read();
                    node.Properties.Add((name, ReadValue(ref reader, file, lines, $"{path}.{name}")));
                }

                return node;
            }

            case JsonTokenType.StartArray:
            {
                var node = new JsonNodeAt { Kind = JsonTokenType.StartArray, Line = line, Column = column, Path = path };
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    node.Items.Add(ReadValue(ref reader, file, lines, $"{path}[{node.Items.Count}]"));
                }

                return node;
            }

            case JsonTokenType.String:
                return new JsonNodeAt { Kind = JsonTokenType.String, Line = line, Column = column, Path = path, Text = reader.GetString() };
            case JsonTokenType.Number:
                return new JsonNodeAt { Kind = JsonTokenType.Number, Line = line, Column = column, Path = path, Number = reader.GetDouble() };
            case JsonTokenType.True:
            case JsonTokenType.False:
                return new JsonNodeAt { Kind = reader.TokenType, Line = line, Column = column, Path = path, Bool = reader.GetBoolean() };
            default:
                return new JsonNodeAt { Kind = JsonTokenType.Null, Line = line, Column = column, Path = path };
        }
    }

    private static int[] LineStarts(byte[] utf8)
    {
        var starts = new List<int> { 0 };
        for (var i = 0; i < utf8.Length; i++)
        {
            if (utf8[i] == (byte)'\n')
            {
                starts.Add(i + 1);
            }
        }

        return [.. starts];
    }

    private static (int Line, int Column) Position(int[] lines, long offset)
    {
        var i = Array.BinarySearch(lines, (int)offset);
        if (i < 0)
        {
            i = ~i - 1;
        }

        return (i + 1, (int)offset - lines[i] + 1);
    }
}

/// <summary>A problem in a scenario file, naming the file, line, column and field.</summary>
public sealed class ScenarioException : Exception
{
    /// <summary>Creates the error.</summary>
    public ScenarioException(string file, int line, int column, string field, string message)
        : base($"{file}:{line}:{column}: {field}: {message}")
    {
        File = file;
        Line = line;
        Column = column;
        Field = field;
        Problem = message;
    }

    /// <summary>Several errors of one file, reported together.</summary>
    public ScenarioException(IReadOnlyList<ScenarioException> errors)
        : base(string.Join(Environment.NewLine, errors.Select(e => e.Message)))
    {
        var first = errors[0];
        (File, Line, Column, Field, Problem) = (first.File, first.Line, first.Column, first.Field, first.Problem);
        All = errors;
    }

    /// <summary>The scenario file.</summary>
    public string File { get; }

    /// <summary>1-based line.</summary>
    public int Line { get; }

    /// <summary>1-based column (bytes).</summary>
    public int Column { get; }

    /// <summary>The JSON path of the field, e.g. <c>$.faults[2].rate</c>.</summary>
    public string Field { get; }

    /// <summary>What is wrong.</summary>
    public string Problem { get; }

    /// <summary>Every error found (this one first).</summary>
    public IReadOnlyList<ScenarioException> All { get; } = [];
}
