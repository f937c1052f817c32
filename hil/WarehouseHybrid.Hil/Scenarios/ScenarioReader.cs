using System.Text.Json;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Domain.Maps;
using WarehouseHybrid.Hil.Cli;
using WarehouseHybrid.Hil.Demo;

namespace WarehouseHybrid.Hil.Scenarios;

/// <summary>
/// Reads a scenario file (JSON with comments, docs/hil-scenarios.md) and checks it completely before anything
/// runs: unknown fields, wrong types, values out of range, cells off the map or on obstacles, faults a mode cannot
/// inject, expectations naming faults that do not exist. Every problem is reported at once, each naming the file,
/// line, column and field.
/// </summary>
public static class ScenarioReader
{
    /// <summary>Fault kinds and the modes that can inject them.</summary>
    public static readonly IReadOnlyDictionary<string, ScenarioMode[]> FaultKinds = new Dictionary<string, ScenarioMode[]>(StringComparer.Ordinal)
    {
        ["serial.bitflip"] = [ScenarioMode.InProcess, ScenarioMode.Daemons],
        ["serial.drop"] = [ScenarioMode.InProcess, ScenarioMode.Daemons],
        ["serial.duplicate"] = [ScenarioMode.InProcess, ScenarioMode.Daemons],
        ["serial.unplug"] = [ScenarioMode.InProcess, ScenarioMode.Daemons],
        ["serial.silent"] = [ScenarioMode.InProcess, ScenarioMode.Daemons],
        ["board.fault"] = [ScenarioMode.InProcess, ScenarioMode.Daemons],
        ["board.estop"] = [ScenarioMode.InProcess, ScenarioMode.Daemons],
        ["network.brokerOutage"] = [ScenarioMode.InProcess, ScenarioMode.Daemons],
        ["network.latency"] = [ScenarioMode.InProcess, ScenarioMode.Daemons],
        ["network.partition"] = [ScenarioMode.InProcess, ScenarioMode.Daemons],
        ["cloud.siloKill"] = [ScenarioMode.InProcess, ScenarioMode.Daemons],
        ["model.corrupt"] = [ScenarioMode.InProcess, ScenarioMode.Daemons],
        ["model.unsigned"] = [ScenarioMode.InProcess, ScenarioMode.Daemons],
        ["model.slowInference"] = [ScenarioMode.Daemons],
        ["model.drift"] = [ScenarioMode.InProcess, ScenarioMode.Daemons],
        ["world.person"] = [ScenarioMode.InProcess, ScenarioMode.Daemons],
        ["world.block"] = [ScenarioMode.InProcess, ScenarioMode.Daemons],
        ["world.drop"] = [ScenarioMode.InProcess, ScenarioMode.Daemons],
        ["world.delay"] = [ScenarioMode.InProcess, ScenarioMode.Daemons],
        ["clock.skew"] = [ScenarioMode.InProcess, ScenarioMode.Daemons],
    };

    private static readonly string[] TopFields = ["name", "description", "mode", "world", "fleet", "duration", "shortDuration", "faults", "expect"];
    private static readonly string[] WorldFields = ["map", "odometryNoise", "rangeNoise", "headingNoise", "brakeDeceleration"];
    private static readonly string[] FleetFields = ["robots", "seed", "startCells", "startHeading", "modelPackage", "modelKey", "tasks"];
    private static readonly string[] FaultFields = ["id", "kind", "at", "until", "robot", "robots", "rate", "direction", "code", "severity", "cells", "path", "speed", "latency", "jitter", "offset", "headingBias", "rangeScale"];
    private static readonly string[] ExpectFields = ["invariantsHold", "expectViolation", "tasksFinishedAtLeast", "siteStepsAtLeast", "fallbacks", "noTelemetryLoss", "modelRefused"];
    private static readonly string[] FallbackFields = ["after", "robot", "within", "mode", "reason"];

    /// <summary>Reads and validates a scenario file.</summary>
    /// <exception cref="ScenarioException">Every problem found (see <see cref="ScenarioException.All"/>).</exception>
    public static Scenario Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ScenarioException(path, 0, 0, "$", $"cannot read the file: {ex.Message}");
        }

        return Parse(path, bytes);
    }

    /// <summary>Reads and validates scenario text; <paramref name="file"/> names it in errors and anchors relative paths.</summary>
    public static Scenario Parse(string file, byte[] utf8)
    {
        var root = JsonNodeAt.Parse(file, utf8);
        var b = new Binder(file);
        var scenario = b.Bind(root);
        if (b.Errors.Count > 0)
        {
            throw b.Errors.Count == 1 ? b.Errors[0] : new ScenarioException(b.Errors);
        }

        return scenario!;
    }

    private sealed class Binder(string file)
    {
        public List<ScenarioException> Errors { get; } = [];

        private GridMap? _map;

        public Scenario? Bind(JsonNodeAt root)
        {
            if (!root.IsObject)
            {
                Error(root, $"a scenario is a JSON object, not {root.Describe()}");
                return null;
            }

            Known(root, TopFields);
            var name = String(root, "name", required: true) ?? "?";
            var mode = (String(root, "mode") ?? "inProcess") switch
            {
                "inProcess" => ScenarioMode.InProcess,
                "daemons" => ScenarioMode.Daemons,
                var other => Fail((Field(root, "mode") ?? root), $"'{other}' is not a mode (inProcess, daemons)", ScenarioMode.InProcess),
            };

            var world = Object(root, "world", required: true);
            var mapFile = world is null ? null : ResolveMap(world);
            var fleet = Object(root, "fleet");
            var robots = fleet is null ? 6 : (int)Number(fleet, "robots", 6, 1, mode == ScenarioMode.Daemons ? 50 : 2000, integer: true);
            var duration = Duration(root, "duration", required: true) ?? TimeSpan.FromSeconds(1);
            var shortDuration = Duration(root, "shortDuration");
            if (shortDuration > duration)
            {
                Error((Field(root, "shortDuration") ?? root), $"the short form ({shortDuration}) must not be longer than the scenario ({duration})");
            }

            var faults = new List<FaultSpec>();
            if (Array(root, "faults") is { } list)
            {
                foreach (var item in list.Items)
                {
                    if (BindFault(item, mode, robots, duration) is { } f)
                    {
                        if (faults.Any(x => x.Id == f.Id))
                        {
                            Error((Field(item, "id") ?? item), $"fault id '{f.Id}' is used twice");
                        }

                        faults.Add(f);
                    }
                }
            }

            string? modelPackage = null, modelKey = null;
            IReadOnlyList<int>? starts = null;
            var heading = Heading.East;
            var tasks = true;
            var seed = 1;
            if (fleet is not null)
            {
                Known(fleet, FleetFields);
                seed = (int)Number(fleet, "seed", 1, int.MinValue, int.MaxValue, integer: true);
                modelPackage = PathField(fleet, "modelPackage", directory: true);
                modelKey = PathField(fleet, "modelKey", directory: false);
                tasks = Bool(fleet, "tasks", true);
                if (String(fleet, "startHeading") is { } h)
                {
                    if (!Enum.TryParse(h, ignoreCase: false, out heading) || !Enum.IsDefined(heading))
                    {
                        Error((Field(fleet, "startHeading") ?? fleet), $"'{h}' is not a heading (East, South, West, North)");
                    }
                }

                if (Array(fleet, "startCells") is { } cells)
                {
                    starts = Cells(cells);
                    if (starts.Count != robots)
                    {
                        Error(cells, $"{starts.Count} start cells for {robots} robots");
                    }
                    else if (starts.Distinct().Count() != starts.Count)
                    {
                        Error(cells, "two robots start in the same cell");
                    }
                }
            }

            if (modelPackage is null && faults.FirstOrDefault(f => f.Kind.StartsWith("model.", StringComparison.Ordinal) && f.Kind != "model.drift") is { } mf)
            {
                Error(root, $"fault '{mf.Id}' ({mf.Kind}) needs fleet.modelPackage (and fleet.modelKey)");
            }

            var expect = Object(root, "expect") is { } e ? BindExpect(e, faults, robots, mode) : new Expectations();
            return new Scenario
            {
                Name = name,
                Description = String(root, "description") ?? string.Empty,
                SourceFile = Path.GetFullPath(file),
                Mode = mode,
                MapFile = mapFile ?? string.Empty,
                OdometryNoise = world is null ? 0 : Number(world, "odometryNoise", 0, 0, 0.2),
                RangeNoise = world is null ? 0 : Number(world, "rangeNoise", 0, 0, 1),
                HeadingNoise = world is null ? 0 : Number(world, "headingNoise", 0, 0, 0.5),
                WorldBrakeDeceleration = world is not null && Field(world, "brakeDeceleration") is not null ? Number(world, "brakeDeceleration", 2.5, 0.1, 20) : null,
                Robots = robots,
                Seed = seed,
                StartCells = starts,
                StartHeading = heading,
                ModelPackage = modelPackage,
                ModelKey = modelKey,
                Tasks = tasks,
                Duration = duration,
                ShortDuration = shortDuration,
                Faults = faults,
                Expect = expect,
            };
        }

        private FaultSpec? BindFault(JsonNodeAt node, ScenarioMode mode, int robots, TimeSpan duration)
        {
            if (!node.IsObject)
            {
                Error(node, $"a fault is an object, not {node.Describe()}");
                return null;
            }

            Known(node, FaultFields);
            var id = String(node, "id", required: true) ?? "?";
            var kind = String(node, "kind", required: true) ?? "?";
            if (!FaultKinds.TryGetValue(kind, out var modes))
            {
                Error(Field(node, "kind") ?? node, $"'{kind}' is not a fault kind ({string.Join(", ", FaultKinds.Keys)})");
                return null;
            }

            if (!modes.Contains(mode))
            {
                Error((Field(node, "kind") ?? node), $"{kind} cannot be injected in mode {ModeName(mode)} (only {string.Join(", ", modes.Select(ModeName))})");
            }

            var at = Duration(node, "at", required: true, allowZero: true) ?? TimeSpan.Zero;
            var until = Duration(node, "until");
            if (at > duration)
            {
                Error((Field(node, "at") ?? node), $"starts at {at}, after the end of the scenario ({duration})");
            }

            if (until is { } u && u <= at)
            {
                Error((Field(node, "until") ?? node), $"ends at {u}, not after its start {at}");
            }

            var targets = Robots(node, robots);
            var needsRobots = kind.StartsWith("serial.", StringComparison.Ordinal) || kind.StartsWith("board.", StringComparison.Ordinal)
                || kind is "network.partition" or "model.corrupt" or "model.unsigned" or "model.slowInference" or "model.drift" or "world.delay";
            if (needsRobots && targets.Count == 0)
            {
                Error(node, $"{kind} needs 'robot' (an index) or 'robots' (a list of indices, or \"all\")");
            }

            if (kind is "serial.unplug" or "serial.silent" or "network.brokerOutage" or "network.partition" or "cloud.siloKill" && until is null)
            {
                Error(node, $"{kind} needs 'until' (when the fault ends)");
            }

            if (kind is "model.corrupt" or "model.unsigned" && at != TimeSpan.Zero)
            {
                Error((Field(node, "at") ?? node), $"{kind} replaces the package the robot boots with: 'at' must be \"0s\"");
            }

            var isNoise = kind is "serial.bitflip" or "serial.drop" or "serial.duplicate";
            var direction = String(node, "direction") ?? "both";
            if (direction is not ("both" or "toDaemon" or "toBoard"))
            {
                Error((Field(node, "direction") ?? node), $"'{direction}' is not a direction (both, toDaemon, toBoard)");
            }

            var cells = Array(node, "cells") is { } c ? Cells(c) : [];
            if (kind is "world.block" or "world.drop" && cells.Count == 0)
            {
                Error(node, $"{kind} needs 'cells' ([[row, column], ...])");
            }

            var path = Array(node, "path") is { } p ? PersonPath(p) : [];
            if (kind == "world.person" && path.Count == 0)
            {
                Error(node, "world.person needs 'path' ([{\"cell\": [row, column], \"dwell\": \"5s\"}, ...])");
            }

            var fault = new FaultSpec(id, kind, at, until, targets, node.Line)
            {
                Rate = isNoise ? Number(node, "rate", double.NaN, 1e-9, 1, required: true) : 0,
                Direction = direction,
                Code = kind == "board.fault" ? (ushort)Number(node, "code", 0, 0, ushort.MaxValue, integer: true, required: true) : (ushort)0,
                Severity = kind == "board.fault" ? (byte)Number(node, "severity", 2, 0, 2, integer: true) : (byte)0,
                Cells = cells,
                Path = path,
                Speed = kind == "world.delay" ? Number(node, "speed", 0.3, 0, 1) : Number(node, "speed", 1.2, 0.05, 5),
                Latency = Duration(node, "latency", allowZero: true) ?? TimeSpan.Zero,
                Jitter = Duration(node, "jitter", allowZero: true) ?? TimeSpan.Zero,
                Offset = SignedDuration(node, "offset") ?? TimeSpan.Zero,
                HeadingBias = Number(node, "headingBias", 0, -Math.PI, Math.PI),
                RangeScale = Number(node, "rangeScale", 1, 0.05, 20),
            };
            if (kind == "network.latency" && fault.Latency == TimeSpan.Zero && fault.Jitter == TimeSpan.Zero)
            {
                Error(node, "network.latency needs 'latency' and/or 'jitter'");
            }

            if (kind == "clock.skew" && fault.Offset == TimeSpan.Zero)
            {
                Error(node, "clock.skew needs a non-zero 'offset' (e.g. \"-2s\")");
            }

            if (kind == "model.drift" && fault.HeadingBias == 0 && fault.RangeScale == 1)
            {
                Error(node, "model.drift needs 'headingBias' (radians) and/or 'rangeScale'");
            }

            return fault;
        }

        private Expectations BindExpect(JsonNodeAt node, List<FaultSpec> faults, int robots, ScenarioMode mode)
        {
            Known(node, ExpectFields);
            var fallbacks = new List<FallbackExpectation>();
            if (Array(node, "fallbacks") is { } list)
            {
                foreach (var f in list.Items)
                {
                    if (!f.IsObject)
                    {
                        Error(f, $"a fallback expectation is an object, not {f.Describe()}");
                        continue;
                    }

                    Known(f, FallbackFields);
                    var after = String(f, "after", required: true) ?? "?";
                    if (faults.All(x => x.Id != after))
                    {
                        Error((Field(f, "after") ?? f), $"no fault has the id '{after}'");
                    }

                    fallbacks.Add(new FallbackExpectation(after, (int)Number(f, "robot", 0, 0, robots - 1, integer: true, required: true),
                        Duration(f, "within", required: true) ?? TimeSpan.FromSeconds(1), String(f, "mode"), String(f, "reason"), f.Line));
                }
            }

            var noLoss = Bool(node, "noTelemetryLoss", false);
            if (noLoss && mode != ScenarioMode.Daemons)
            {
                Error((Field(node, "noTelemetryLoss") ?? node), "noTelemetryLoss is checked at the broker: it needs mode daemons");
            }

            (int, string)? refused = null;
            if (Object(node, "modelRefused") is { } m)
            {
                Known(m, ["robot", "refusal"]);
                refused = ((int)Number(m, "robot", 0, 0, robots - 1, integer: true, required: true), String(m, "refusal", required: true) ?? "?");
            }

            var expectViolation = String(node, "expectViolation");
            if (expectViolation is not null && !Enum.TryParse<World.InvariantKind>(expectViolation, out _))
            {
                Error((Field(node, "expectViolation") ?? node), $"'{expectViolation}' is not an invariant ({string.Join(", ", Enum.GetNames<World.InvariantKind>())})");
            }

            return new Expectations
            {
                InvariantsHold = Bool(node, "invariantsHold", expectViolation is null),
                ExpectViolation = expectViolation,
                TasksFinishedAtLeast = Field(node, "tasksFinishedAtLeast") is null ? null : (long)Number(node, "tasksFinishedAtLeast", 0, 0, 1e9, integer: true),
                SiteStepsAtLeast = Field(node, "siteStepsAtLeast") is null ? null : (long)Number(node, "siteStepsAtLeast", 0, 0, 1e9, integer: true),
                Fallbacks = fallbacks,
                NoTelemetryLoss = noLoss,
                ModelRefused = refused,
            };
        }

        private string? ResolveMap(JsonNodeAt world)
        {
            Known(world, WorldFields);
            var text = String(world, "map", required: true);
            if (text is null)
            {
                return null;
            }

            string path;
            if (text.StartsWith("kit:", StringComparison.Ordinal))
            {
                var kit = DemoMap.FindKitData();
                if (kit is null)
                {
                    Error((Field(world, "map") ?? world), "the team kit's data folder (../shared/data beside the repository) was not found");
                    return null;
                }

                path = Path.Combine(kit, text[4..]);
            }
            else
            {
                path = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file)) ?? ".", text));
            }

            try
            {
                _map = GridMapReader.Load(path);
                return path;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or Domain.Errors.DomainFormatException or FormatException)
            {
                Error((Field(world, "map") ?? world), $"cannot load map '{path}': {ex.Message}");
                return null;
            }
        }

        private List<int> Robots(JsonNodeAt node, int robots)
        {
            var one = Field(node, "robot");
            var many = Field(node, "robots");
            if (one is not null && many is not null)
            {
                Error(many, "give 'robot' or 'robots', not both");
            }

            if (one is not null)
            {
                return [(int)Number(node, "robot", 0, 0, robots - 1, integer: true)];
            }

            if (many is null)
            {
                return [];
            }

            if (many.Kind == JsonTokenType.String && many.Text == "all")
            {
                return [.. Enumerable.Range(0, robots)];
            }

            if (!many.IsArray)
            {
                Error(many, $"'robots' is a list of robot indices or \"all\", not {many.Describe()}");
                return [];
            }

            var result = new List<int>();
            foreach (var item in many.Items)
            {
                if (item.Kind != JsonTokenType.Number || item.Number != Math.Floor(item.Number) || item.Number < 0 || item.Number >= robots)
                {
                    Error(item, $"a robot index is an integer in [0, {robots - 1}], not {item.Describe()}");
                }
                else
                {
                    result.Add((int)item.Number);
                }
            }

            return result;
        }

        private List<int> Cells(JsonNodeAt list)
        {
            var result = new List<int>();
            foreach (var item in list.Items)
            {
                if (Cell(item) is { } c)
                {
                    result.Add(c);
                }
            }

            return result;
        }

        private int? Cell(JsonNodeAt item)
        {
            if (!item.IsArray || item.Items.Count != 2 || item.Items.Any(i => i.Kind != JsonTokenType.Number || i.Number != Math.Floor(i.Number)))
            {
                Error(item, $"a cell is [row, column] (two integers), not {item.Describe()}");
                return null;
            }

            var (row, col) = ((int)item.Items[0].Number, (int)item.Items[1].Number);
            if (_map is null)
            {
                return null;
            }

            if (!_map.InBounds(row, col))
            {
                Error(item, $"cell [{row}, {col}] is off the {_map.Width}x{_map.Height} map");
                return null;
            }

            var cell = _map.CellAt(row, col);
            if (!_map.IsPassable(cell))
            {
                Error(item, $"cell [{row}, {col}] is an obstacle on map '{_map.Name}'");
                return null;
            }

            return cell;
        }

        private List<(int, TimeSpan)> PersonPath(JsonNodeAt list)
        {
            var result = new List<(int, TimeSpan)>();
            foreach (var item in list.Items)
            {
                if (!item.IsObject)
                {
                    Error(item, $"a waypoint is {{\"cell\": [row, column], \"dwell\": \"2s\"}}, not {item.Describe()}");
                    continue;
                }

                Known(item, ["cell", "dwell"]);
                var cellNode = Field(item, "cell");
                if (cellNode is null)
                {
                    Error(item, "a waypoint needs 'cell'");
                    continue;
                }

                if (Cell(cellNode) is { } c)
                {
                    result.Add((c, Duration(item, "dwell", allowZero: true) ?? TimeSpan.Zero));
                }
            }

            return result;
        }

        private string? PathField(JsonNodeAt node, string name, bool directory)
        {
            var text = String(node, name);
            if (text is null)
            {
                return null;
            }

            var path = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file)) ?? ".", text));
            if (directory ? !Directory.Exists(path) : !File.Exists(path))
            {
                Error(Field(node, name)!, $"{(directory ? "directory" : "file")} '{path}' does not exist");
                return null;
            }

            return path;
        }

        private static string ModeName(ScenarioMode m) => m == ScenarioMode.InProcess ? "inProcess" : "daemons";

        private void Known(JsonNodeAt node, string[] fields)
        {
            foreach (var (name, value) in node.Properties)
            {
                if (!fields.Contains(name))
                {
                    Error(value, $"unknown field '{name}' (expected one of: {string.Join(", ", fields)})", $"{node.Path}.{name}");
                }
            }
        }

        private static JsonNodeAt? Field(JsonNodeAt node, string name) => node.Properties.FirstOrDefault(p => p.Name == name).Value;

        private JsonNodeAt? Object(JsonNodeAt node, string name, bool required = false)
        {
            var v = Field(node, name);
            if (v is null)
            {
                if (required)
                {
                    Error(node, $"missing required field '{name}'", $"{node.Path}.{name}");
                }

                return null;
            }

            if (!v.IsObject)
            {
                Error(v, $"must be an object, not {v.Describe()}");
                return null;
            }

            return v;
        }

        private JsonNodeAt? Array(JsonNodeAt node, string name)
        {
            var v = Field(node, name);
            if (v is null)
            {
                return null;
            }

            if (!v.IsArray)
            {
                Error(v, $"must be an array, not {v.Describe()}");
                return null;
            }

            return v;
        }

        private string? String(JsonNodeAt node, string name, bool required = false)
        {
            var v = Field(node, name);
            if (v is null)
            {
                if (required)
                {
                    Error(node, $"missing required field '{name}'", $"{node.Path}.{name}");
                }

                return null;
            }

            if (v.Kind != JsonTokenType.String || string.IsNullOrWhiteSpace(v.Text))
            {
                Error(v, $"must be a non-empty string, not {v.Describe()}");
                return null;
            }

            return v.Text;
        }

        private bool Bool(JsonNodeAt node, string name, bool fallback)
        {
            var v = Field(node, name);
            if (v is null)
            {
                return fallback;
            }

            if (v.Kind is not (JsonTokenType.True or JsonTokenType.False))
            {
                Error(v, $"must be true or false, not {v.Describe()}");
                return fallback;
            }

            return v.Bool;
        }

        private double Number(JsonNodeAt node, string name, double fallback, double min, double max, bool integer = false, bool required = false)
        {
            var v = Field(node, name);
            if (v is null)
            {
                if (required)
                {
                    Error(node, $"missing required field '{name}'", $"{node.Path}.{name}");
                }

                return fallback;
            }

            if (v.Kind != JsonTokenType.Number || (integer && v.Number != Math.Floor(v.Number)) || v.Number < min || v.Number > max)
            {
                Error(v, $"must be {(integer ? "an integer" : "a number")} in [{min}, {max}], not {v.Describe()}");
                return fallback;
            }

            return v.Number;
        }

        private TimeSpan? Duration(JsonNodeAt node, string name, bool required = false, bool allowZero = false)
        {
            var v = Field(node, name);
            if (v is null)
            {
                if (required)
                {
                    Error(node, $"missing required field '{name}'", $"{node.Path}.{name}");
                }

                return null;
            }

            if (v.Kind == JsonTokenType.String && allowZero && v.Text is "0" or "0s" or "0ms")
            {
                return TimeSpan.Zero;
            }

            if (v.Kind != JsonTokenType.String)
            {
                Error(v, $"a duration is a string such as \"500ms\", \"30s\" or \"2m\", not {v.Describe()}");
                return null;
            }

            if (!DurationParser.TryParse(v.Text!, out var d, out var error))
            {
                Error(v, error!);
                return null;
            }

            return d;
        }

        private TimeSpan? SignedDuration(JsonNodeAt node, string name)
        {
            var v = Field(node, name);
            if (v is { Kind: JsonTokenType.String, Text: { } t } && t.StartsWith('-'))
            {
                return DurationParser.TryParse(t[1..], out var d, out var error) ? -d : Fail<TimeSpan?>(v, error!, null);
            }

            return Duration(node, name);
        }

        private T Fail<T>(JsonNodeAt node, string message, T value)
        {
            Error(node, message);
            return value;
        }

        private void Error(JsonNodeAt node, string message, string? path = null) =>
            Errors.Add(new ScenarioException(file, node.Line, node.Column, path ?? node.Path, message));
    }
}
