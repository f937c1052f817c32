using System.Text.Json;

namespace WarehouseHybrid.Contracts.Sparkplug;

/// <summary>
/// The Sparkplug 3.0 primary host application state published retained on <c>spBv1.0/STATE/{host id}</c>:
/// the JSON object <c>{"online":bool,"timestamp":ms}</c>. A message whose timestamp is older than the last one
/// seen is stale and must be ignored.
/// </summary>
/// <param name="Online">Whether the host application is online.</param>
/// <param name="TimestampMs">When the host published it, milliseconds since the Unix epoch (UTC).</param>
public readonly record struct SparkplugHostState(bool Online, long TimestampMs)
{
    /// <summary>The UTF-8 JSON payload.</summary>
    public byte[] Encode()
    {
        using var buffer = new MemoryStream(48);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteBoolean("online", Online);
            writer.WriteNumber("timestamp", TimestampMs);
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>Parses a STATE payload; on failure <paramref name="error"/> says what is wrong.</summary>
    public static bool TryParse(ReadOnlySpan<byte> payload, out SparkplugHostState state, out string error)
    {
        state = default;
        bool? online = null;
        long? timestamp = null;
        try
        {
            var reader = new Utf8JsonReader(payload, new JsonReaderOptions { MaxDepth = 4 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = "STATE payload is not a JSON object";
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                // Compare the raw UTF-8 name: GetString() would throw on invalid UTF-8.
                var isOnline = reader.ValueTextEquals("online"u8);
                var isTimestamp = !isOnline && reader.ValueTextEquals("timestamp"u8);
                reader.Read();
                if (isOnline)
                {
                    if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False))
                    {
                        error = $"STATE payload: 'online' is {reader.TokenType}, expected true or false";
                        return false;
                    }

                    online = reader.GetBoolean();
                }
                else if (isTimestamp)
                {
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var ms) || ms < 0)
                    {
                        error = "STATE payload: 'timestamp' is not a non-negative integer of milliseconds";
                        return false;
                    }

                    timestamp = ms;
                }
                else
                {
                    reader.Skip();
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                error = "STATE payload: trailing data after the JSON object";
                return false;
            }
        }
        catch (JsonException ex)
        {
            error = $"STATE payload is not valid JSON at byte {ex.BytePositionInLine}: {ex.Message}";
            return false;
        }
        catch (InvalidOperationException ex)
        {
            error = $"STATE payload is not valid UTF-8 JSON: {ex.Message}";
            return false;
        }

        if (online is null || timestamp is null)
        {
            error = $"STATE payload lacks '{(online is null ? "online" : "timestamp")}'";
            return false;
        }

        state = new SparkplugHostState(online.Value, timestamp.Value);
        error = string.Empty;
        return true;
    }
}
