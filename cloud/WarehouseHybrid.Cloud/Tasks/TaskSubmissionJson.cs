using System.Globalization;
using System.Text.Json;

namespace WarehouseHybrid.Cloud.Tasks;

/// <summary>A parsed submission: the site it is for and the order, or the field errors.</summary>
/// <param name="Site">The site id (null when missing or invalid).</param>
/// <param name="Order">The order (null when anything was wrong).</param>
/// <param name="Errors">Every problem found, field by field.</param>
public sealed record ParsedSubmission(string? Site, TaskOrder? Order, IReadOnlyList<FieldError> Errors);

/// <summary>
/// Reads the JSON body of <c>POST /api/tasks</c>, strictly, naming the field of every problem:
/// <code>{ "site": "site-1", "errands": [ 1204, { "x": 3, "y": 17 } ], "priority": 5, "reference": "order-77" }</code>
/// An errand is a cell number, an object with integer <c>x</c> (column) and <c>y</c> (row), or <c>{ "cell": n }</c>.
/// Unknown fields are refused (a typo would otherwise be silently ignored). Pure; never throws on bad input.
/// </summary>
public static class TaskSubmissionJson
{
    /// <summary>Deepest JSON nesting accepted.</summary>
    public const int MaxDepth = 8;

    /// <summary>Most errands read before the rest is refused (the site's own limit is usually lower).</summary>
    public const int MaxErrandsRead = 10_000;

    /// <summary>Parses <paramref name="body"/>.</summary>
    public static ParsedSubmission Parse(ReadOnlyMemory<byte> body)
    {
        var errors = new List<FieldError>();
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = MaxDepth, AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow });
        }
        catch (JsonException ex)
        {
            var at = ex.LineNumber is { } line ? string.Create(CultureInfo.InvariantCulture, $" at line {line + 1}, byte {ex.BytePositionInLine + 1}") : string.Empty;
            return new ParsedSubmission(null, null, [new FieldError("body", $"is not valid JSON{at}: {FirstSentence(ex.Message)}")]);
        }

        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return new ParsedSubmission(null, null, [new FieldError("body", $"must be a JSON object, got {Kind(root)}")]);
            }

            string? site = null;
            string? reference = null;
            var priority = 0;
            List<ErrandRef>? errands = null;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var p in root.EnumerateObject())
            {
                if (!seen.Add(p.Name))
                {
                    errors.Add(new FieldError(p.Name, "appears twice"));
                    continue;
                }

                switch (p.Name)
                {
                    case "site":
                        if (p.Value.ValueKind != JsonValueKind.String)
                        {
                            errors.Add(new FieldError("site", $"must be a string, got {Kind(p.Value)}"));
                        }
                        else if (!Contracts.Topics.FleetTopics.IsValidId(p.Value.GetString()!))
                        {
                            errors.Add(new FieldError("site", $"'{Clip(p.Value.GetString()!)}' is not a site id (1-64 of [A-Za-z0-9_-])"));
                        }
                        else
                        {
                            site = p.Value.GetString();
                        }

                        break;
                    case "errands":
                        errands = ReadErrands(p.Value, errors);
                        break;
                    case "priority":
                        if (!TryInt(p.Value, out priority))
                        {
                            errors.Add(new FieldError("priority", $"must be an integer, got {Kind(p.Value)}"));
                        }

                        break;
                    case "reference":
                        if (p.Value.ValueKind == JsonValueKind.Null)
                        {
                            break;
                        }

                        if (p.Value.ValueKind != JsonValueKind.String)
                        {
                            errors.Add(new FieldError("reference", $"must be a string, got {Kind(p.Value)}"));
                        }
                        else
                        {
                            reference = p.Value.GetString();
                        }

                        break;
                    default:
                        errors.Add(new FieldError(Clip(p.Name), "is not a field of a task submission (site, errands, priority, reference)"));
                        break;
                }
            }

            if (!seen.Contains("site"))
            {
                errors.Add(new FieldError("site", "is required"));
            }

            if (!seen.Contains("errands"))
            {
                errors.Add(new FieldError("errands", "is required"));
            }

            return errors.Count > 0
                ? new ParsedSubmission(site, null, errors)
                : new ParsedSubmission(site, new TaskOrder { Errands = errands!, Priority = priority, Reference = reference }, errors);
        }
    }

    /// <summary>Checks an <c>Idempotency-Key</c> value: 1-255 visible ASCII characters (spaces allowed inside).</summary>
    public static string? CheckIdempotencyKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length is 0 or > 255)
        {
            return $"must be 1-255 characters, got {key.Length}";
        }

        if (key[0] == ' ' || key[^1] == ' ' || key.Any(c => c is < ' ' or > '~'))
        {
            return "must be visible ASCII characters (spaces only inside)";
        }

        return null;
    }

    private static List<ErrandRef>? ReadErrands(JsonElement value, List<FieldError> errors)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            errors.Add(new FieldError("errands", $"must be an array of cells or {{x, y}} points, got {Kind(value)}"));
            return null;
        }

        var count = value.GetArrayLength();
        if (count > MaxErrandsRead)
        {
            errors.Add(new FieldError("errands", $"has {count} entries; at most {MaxErrandsRead} are read"));
            return null;
        }

        var list = new List<ErrandRef>(count);
        var i = 0;
        var ok = true;
        foreach (var e in value.EnumerateArray())
        {
            var field = string.Create(CultureInfo.InvariantCulture, $"errands[{i++}]");
            if (e.ValueKind == JsonValueKind.Number)
            {
                if (TryInt(e, out var cell))
                {
                    list.Add(ErrandRef.AtCell(cell));
                    continue;
                }

                errors.Add(new FieldError(field, $"cell must be an integer, got {e.GetRawText()}"));
                ok = false;
                continue;
            }

            if (e.ValueKind != JsonValueKind.Object)
            {
                errors.Add(new FieldError(field, $"must be a cell number or an object {{\"x\": column, \"y\": row}}, got {Kind(e)}"));
                ok = false;
                continue;
            }

            int? x = null, y = null, c = null;
            foreach (var p in e.EnumerateObject())
            {
                var name = p.Name;
                if (name is not ("x" or "y" or "cell"))
                {
                    errors.Add(new FieldError($"{field}.{Clip(name)}", "is not a field of an errand (x and y, or cell)"));
                    ok = false;
                    continue;
                }

                if (!TryInt(p.Value, out var n))
                {
                    errors.Add(new FieldError($"{field}.{name}", $"must be an integer, got {Kind(p.Value)}"));
                    ok = false;
                    continue;
                }

                if (name == "x")
                {
                    x = n;
                }
                else if (name == "y")
                {
                    y = n;
                }
                else
                {
                    c = n;
                }
            }

            if (c is { } cellValue && x is null && y is null)
            {
                list.Add(ErrandRef.AtCell(cellValue));
            }
            else if (x is { } xv && y is { } yv && c is null)
            {
                list.Add(ErrandRef.AtPoint(xv, yv));
            }
            else
            {
                errors.Add(new FieldError(field, "must have both x and y, or only cell"));
                ok = false;
            }
        }

        return ok ? list : null;
    }

    private static bool TryInt(JsonElement e, out int value)
    {
        value = 0;
        return e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out value);
    }

    private static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Number => $"the number {Clip(e.GetRawText())}",
        JsonValueKind.String => $"the string \"{Clip(e.GetString() ?? string.Empty)}\"",
        JsonValueKind.True or JsonValueKind.False => e.GetRawText(),
        JsonValueKind.Null => "null",
        JsonValueKind.Array => "an array",
        _ => "an object",
    };

    private static string Clip(string s) => s.Length <= 40 ? s : s[..40] + "...";

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(". ", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message.TrimEnd('.');
    }
}
