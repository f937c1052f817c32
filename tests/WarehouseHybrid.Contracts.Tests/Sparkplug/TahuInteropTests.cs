using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using WarehouseHybrid.Contracts.Sparkplug;
using WarehouseHybrid.Contracts.Sparkplug.Wire;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Contracts.Tests.Sparkplug;

/// <summary>
/// Interoperability with a decoder no one here wrote: Eclipse Tahu's sparkplug-payload (npm), run with node
/// through tests/interop/decode.js (./test.sh installs it). Our NBIRTH, DBIRTH and DDATA must decode there to the
/// same names, types and values.
/// </summary>
public sealed class TahuInteropTests
{
    private static readonly string InteropDir = Path.Combine(RepoPaths.Root, "tests", "interop");

    private static JsonElement DecodeWithTahu(byte[] payload)
    {
        Assert.True(Directory.Exists(Path.Combine(InteropDir, "node_modules", "sparkplug-payload")),
            $"the third-party decoder is not installed: run `npm install --no-audit --no-fund` in {InteropDir} (./test.sh does)");
        var file = Path.Combine(Path.GetTempPath(), $"wh-sparkplug-{Guid.NewGuid():N}.bin");
        File.WriteAllBytes(file, payload);
        try
        {
            var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add(Path.Combine(InteropDir, "decode.js"));
            start.ArgumentList.Add(file);
            using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start node");
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
            {
                process.Kill();
                Assert.Fail("node decode.js did not finish within 30 s");
            }

            Assert.True(process.ExitCode == 0, $"decode.js exit {process.ExitCode}: {stderr.Result}");
            return JsonDocument.Parse(stdout.Result).RootElement.Clone();
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static JsonElement Metric(JsonElement payload, Func<JsonElement, bool> match) =>
        payload.GetProperty("metrics").EnumerateArray().Single(match);

    private static void AssertSameValue(SparkplugValue expected, JsonElement metric, string what)
    {
        Assert.Equal(expected.Type.ToString(), metric.GetProperty("type").GetString() switch
        {
            "UInt64" => "Uint64",
            "UInt32" => "Uint32",
            var t => t,
        });
        var value = metric.GetProperty("value");
        switch (expected.Type)
        {
            case DataType.Double:
                Assert.True(value.ValueKind == JsonValueKind.Number || double.IsInfinity(expected.Real), what);
                if (!double.IsInfinity(expected.Real))
                {
                    Assert.Equal(expected.Real, value.GetDouble());
                }

                break;
            case DataType.Float:
                Assert.Equal((float)expected.Real, value.GetSingle());
                break;
            case DataType.Int32:
                Assert.Equal(expected.AsInt64, value.GetInt64());
                break;
            case DataType.Int64:
                Assert.Equal(expected.AsInt64.ToString(CultureInfo.InvariantCulture), value.GetString()); // a Long, printed as a string
                break;
            case DataType.Uint64:
                Assert.Equal(expected.Integer.ToString(CultureInfo.InvariantCulture), value.GetString());
                break;
            case DataType.Boolean:
                Assert.Equal(expected.AsBoolean, value.GetBoolean());
                break;
            default:
                Assert.Equal(expected.Text, value.GetString());
                break;
        }
    }

    [Fact]
    public void Tahu_decodes_our_births_and_data_to_the_same_names_types_and_values()
    {
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123));
        var session = new SparkplugSession(new SparkplugSessionOptions("s1", "edge-r7"), RobotMetrics.Definitions, new InMemoryBdSeqStore(), time);
        session.BeginConnect();
        var first = SparkplugSessionTests.Sample(9_007_199_254_740_993); // above 2^53: must not round through a JS number
        first.Pose.Cell = -1; // negative Int32
        session.SetDevice("r7", RobotMetrics.FromTelemetry(first));
        var births = session.OnConnected();

        var nbirth = DecodeWithTahu(births[0].Payload);
        Assert.Equal("0", nbirth.GetProperty("seq").GetString());
        Assert.Equal("1700000000123", nbirth.GetProperty("timestamp").GetString());
        var bdSeq = Metric(nbirth, m => m.GetProperty("name").GetString() == "bdSeq");
        Assert.Equal("UInt64", bdSeq.GetProperty("type").GetString());
        Assert.Equal("0", bdSeq.GetProperty("value").GetString());
        var rebirth = Metric(nbirth, m => m.GetProperty("name").GetString() == "Node Control/Rebirth");
        Assert.Equal("Boolean", rebirth.GetProperty("type").GetString());
        Assert.False(rebirth.GetProperty("value").GetBoolean());

        var dbirth = DecodeWithTahu(births[1].Payload);
        Assert.Equal("1", dbirth.GetProperty("seq").GetString());
        var values = RobotMetrics.FromTelemetry(first);
        for (var i = 0; i < values.Length; i++)
        {
            var name = RobotMetrics.Definitions[i].Name;
            var metric = Metric(dbirth, m => m.GetProperty("name").GetString() == name);
            Assert.Equal(session.AliasOf("r7", i).ToString(CultureInfo.InvariantCulture), metric.GetProperty("alias").GetString());
            AssertSameValue(values[i], metric, name);
        }

        var next = SparkplugSessionTests.Sample(9_007_199_254_740_994, x: -3.125);
        next.BatteryFraction = 0.5f;
        next.State = Contracts.Fleet.RobotState.Estop;
        var ddata = DecodeWithTahu(Assert.Single(session.SetDevice("r7", RobotMetrics.FromTelemetry(next))).Payload);
        Assert.Equal("2", ddata.GetProperty("seq").GetString());
        var nextValues = RobotMetrics.FromTelemetry(next);
        var changed = new[] { 0, 3, 5, 6, 17 }; // Pose/X, Pose/Cell (-1 -> 42), State, Battery, Telemetry/Seq
        Assert.Equal(changed.Length, ddata.GetProperty("metrics").GetArrayLength());
        foreach (var i in changed)
        {
            var alias = session.AliasOf("r7", i).ToString(CultureInfo.InvariantCulture);
            var metric = Metric(ddata, m => m.GetProperty("alias").GetString() == alias);
            Assert.False(metric.TryGetProperty("name", out _), "DDATA goes by alias only");
            AssertSameValue(nextValues[i], metric, RobotMetrics.Definitions[i].Name);
        }
    }

    [Fact]
    public void Tahu_sees_historical_flags_and_sample_timestamps_of_held_data()
    {
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000));
        var session = new SparkplugSession(new SparkplugSessionOptions("s1", "edge-r7"), RobotMetrics.Definitions, new InMemoryBdSeqStore(), time);
        session.BeginConnect();
        session.SetDevice("r7", RobotMetrics.FromTelemetry(SparkplugSessionTests.Sample(1)));
        session.OnConnected();
        session.OnDisconnected();
        time.Advance(TimeSpan.FromMilliseconds(250));
        session.SetDevice("r7", RobotMetrics.FromTelemetry(SparkplugSessionTests.Sample(2)));
        time.Advance(TimeSpan.FromSeconds(5));
        session.BeginConnect();

        var historical = DecodeWithTahu(session.OnConnected()[^1].Payload);

        var metric = Assert.Single(historical.GetProperty("metrics").EnumerateArray());
        Assert.True(metric.GetProperty("isHistorical").GetBoolean());
        Assert.Equal("1700000000250", metric.GetProperty("timestamp").GetString());
        Assert.Equal("2", metric.GetProperty("value").GetString());
    }
}
