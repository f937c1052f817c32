using System.Text;
using CsCheck;
using WarehouseHybrid.Hil.Scenarios;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Hil.Tests.Scenarios;

/// <summary>Bad scenario files are refused before anything runs, each problem naming file, line, column and field.</summary>
public sealed class ScenarioReaderTests
{
    private static string File(string name) => Path.Combine(RepoPaths.Root, "hil", "scenarios", name);

    private static ScenarioException Refused(string json)
    {
        var path = File("test-inline.json"); // relative paths resolve beside the library
        return Assert.Throws<ScenarioException>(() => ScenarioReader.Parse(path, Encoding.UTF8.GetBytes(json)));
    }

    private const string Map = "\"world\": { \"map\": \"kit:lorr/2026-example/warehouse.domain/maps/warehouse_small.map\" }";

    [Fact]
    public void A_valid_file_binds_every_field()
    {
        var s = ScenarioReader.Load(File("serial-unplug.json"));
        Assert.Equal("serial-unplug", s.Name);
        var f = Assert.Single(s.Faults);
        Assert.Equal(("serial.unplug", TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(12)), (f.Kind, f.At, f.Until!.Value));
        Assert.Equal([0], f.Robots);
        var e = Assert.Single(s.Expect.Fallbacks);
        Assert.Equal(("ShieldStop", "sensor-stale", TimeSpan.FromMilliseconds(400)), (e.Mode, e.Reason, e.Within));
    }

    [Fact]
    public void Broken_json_names_the_line_and_column()
    {
        var ex = Refused("{\n  \"name\": \"x\",\n  \"duration\": 30s\n}");
        Assert.Equal(3, ex.Line);
        Assert.Contains("not valid JSON", ex.Problem, StringComparison.Ordinal);
        Assert.StartsWith(File("test-inline.json") + ":3:", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_field_is_refused_with_its_path_and_line()
    {
        var ex = Refused($"{{\n \"name\": \"x\", {Map}, \"duration\": \"10s\",\n \"faults\": [ {{ \"id\": \"a\", \"kind\": \"serial.drop\", \"robot\": 0, \"rate\": 0.1, \"at\": \"1s\",\n   \"untill\": \"2s\" }} ] }}");
        Assert.Equal("$.faults[0].untill", ex.Field);
        Assert.Equal(4, ex.Line);
        Assert.Contains("unknown field 'untill'", ex.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var ex = Refused($$"""
            { "name": "x", {{Map}}, "duration": "10s", "fleet": { "robots": 4 },
              "faults": [
                { "id": "a", "kind": "serial.flip", "robot": 0, "at": "1s" },
                { "id": "b", "kind": "world.block", "cells": [[0, 0]], "at": "1s" },
                { "id": "c", "kind": "serial.drop", "robot": 9, "rate": 2, "at": "20s" }
              ],
              "expect": { "fallbacks": [ { "after": "zzz", "robot": 0, "within": "1s" } ] } }
            """);
        var problems = ex.All.Select(e => $"{e.Field}: {e.Problem}").ToList();
        Assert.Contains(problems, p => p.StartsWith("$.faults[0].kind: 'serial.flip' is not a fault kind", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("cell [0, 0] is an obstacle", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("$.faults[2].robot: must be an integer in [0, 3]", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("$.faults[2].rate: must be a number in [1E-09, 1]", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("starts at 00:00:20, after the end", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("$.expect.fallbacks[0].after: no fault has the id 'zzz'", StringComparison.Ordinal));
        Assert.True(ex.All.All(e => e.Line > 0 && e.Column > 0));
    }

    [Fact]
    public void A_fault_a_mode_cannot_inject_and_a_check_it_cannot_make_are_refused()
    {
        var ex = Refused($$"""
            { "name": "x", {{Map}}, "duration": "10s",
              "fleet": { "robots": 2, "modelPackage": "../../edge/WarehouseHybrid.Edge/Models/Packages/driving-policy-1.1.0" },
              "faults": [ { "id": "slow", "kind": "model.slowInference", "robot": 0, "at": "1s" } ], "expect": { "noTelemetryLoss": true } }
            """);
        var problems = ex.All.Select(e => e.Problem).ToList();
        Assert.Contains(problems, p => p.Contains("model.slowInference cannot be injected in mode inProcess", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("noTelemetryLoss is checked at the broker: it needs mode daemons", StringComparison.Ordinal));
    }

    [Fact]
    public void Random_bytes_and_mutated_files_never_crash_the_reader()
    {
        var valid = System.IO.File.ReadAllBytes(File("serial-unplug.json"));
        var mutated = Gen.Select(Gen.Int[0, valid.Length - 1], Gen.Byte).Select((at, value) =>
        {
            var copy = (byte[])valid.Clone();
            copy[at] = value;
            return copy;
        });
        Gen.OneOf(Gen.Byte.Array[0, 300], mutated).Sample(bytes =>
        {
            try
            {
                ScenarioReader.Parse(File("fuzz.json"), bytes);
            }
            catch (ScenarioException ex)
            {
                Assert.False(string.IsNullOrEmpty(ex.Problem));
            }
        }, iter: 2000);
    }
}
