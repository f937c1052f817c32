using System.Text.Json;

namespace WarehouseHybrid.Domain.Lorr;

/// <summary>
/// Where each key of a small JSON object tree sits (1-based lines), so config errors can name a line.
/// Keys are recorded as dotted paths ("teamSize", "delayConfig.seed"); object ends under "path}".
/// </summary>
internal sealed class JsonLineIndex
{
    private readonly Dictionary<string, int> _lines = new(StringComparer.Ordinal);

    public JsonLineIndex(ReadOnlySpan<byte> utf8)
    {
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
        var path = new List<string>();
        string? pendingName = null;
        var line = 1;
        var scanned = 0;
        while (reader.Read())
        {
            var start = (int)reader.TokenStartIndex;
            line += utf8[scanned..start].Count((byte)'\n');
            scanned = start;
            switch (reader.TokenType)
            {
                case JsonTokenType.PropertyName:
                    pendingName = reader.GetString() ?? string.Empty;
                    _lines.TryAdd(Join(path, pendingName), line);
                    break;
                case JsonTokenType.StartObject:
                case JsonTokenType.StartArray:
                    path.Add(pendingName ?? "[]");
                    pendingName = null;
                    break;
                case JsonTokenType.EndObject:
                case JsonTokenType.EndArray:
                    if (path.Count > 0)
                    {
                        _lines.TryAdd(string.Join('.', path.Skip(1)) + "}", line);
                        path.RemoveAt(path.Count - 1);
                    }

                    break;
                default:
                    pendingName = null;
                    break;
            }
        }
    }

    /// <summary>The line of a key, else the line closing its parent object, else 1.</summary>
    public int LineOf(string dottedPath)
    {
        if (_lines.TryGetValue(dottedPath, out var line))
        {
            return line;
        }

        var dot = dottedPath.LastIndexOf('.');
        var parent = dot < 0 ? string.Empty : dottedPath[..dot];
        return _lines.TryGetValue(parent + "}", out var end) ? end : 1;
    }

    private static string Join(List<string> path, string name)
    {
        // path[0] is the root object's placeholder; keys below it are joined with dots.
        if (path.Count <= 1)
        {
            return name;
        }

        var prefix = string.Join('.', path.Skip(1));
        return name.Length == 0 ? prefix : prefix + "." + name;
    }
}
