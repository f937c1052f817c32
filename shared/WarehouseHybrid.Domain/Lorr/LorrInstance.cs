using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Errors;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Domain.Maps;

namespace WarehouseHybrid.Domain.Lorr;

/// <summary>
/// A League of Robot Runners instance (any of the 2023, 2024 and 2026 formats), loaded from its
/// <c>.json</c> config together with the map, agents and tasks files it names and checked for
/// consistency: declared counts match listed entries, teamSize does not exceed the agents listed,
/// every start and errand is a passable cell, and no two robots share a start.
/// </summary>
public sealed record LorrInstance
{
    /// <summary>The config's file name without extension, e.g. "warehouse_large_5000".</summary>
    public required string Name { get; init; }

    /// <summary>The config as read.</summary>
    public required LorrConfig Config { get; init; }

    /// <summary>Full path of the <c>.json</c> config.</summary>
    public required string ConfigPath { get; init; }

    /// <summary>Full path of the map file.</summary>
    public required string MapPath { get; init; }

    /// <summary>Full path of the agents file.</summary>
    public required string AgentsPath { get; init; }

    /// <summary>Full path of the tasks file.</summary>
    public required string TasksPath { get; init; }

    /// <summary>The grid.</summary>
    public required GridMap Map { get; init; }

    /// <summary>Start cells of the robots: the first <see cref="TeamSize"/> entries of the agents file.</summary>
    public required IReadOnlyList<int> StartCells { get; init; }

    /// <summary>How many start cells the agents file lists (at least <see cref="TeamSize"/>).</summary>
    public required int AgentsListed { get; init; }

    /// <summary>The tasks in file order; each is its errand cells in visiting order (2023: exactly one).</summary>
    public required IReadOnlyList<int[]> Tasks { get; init; }

    /// <summary>Number of robots.</summary>
    public int TeamSize => Config.TeamSize;

    /// <summary><c>numTasksReveal</c>.</summary>
    public double NumTasksReveal => Config.NumTasksReveal;

    /// <summary>The format generation.</summary>
    public LorrGeneration Generation => Config.Generation;

    /// <summary>Execution ticks per forward/rotate action (2026 <c>agentCounter</c>; 1 before 2026).</summary>
    public int AgentCounter => Config.AgentCounter;

    /// <summary>The 2026 delay settings, or null.</summary>
    public LorrDelayConfig? DelayConfig => Config.DelayConfig;

    /// <summary>Total errands over all tasks.</summary>
    public long ErrandCount => Tasks.Sum(t => (long)t.Length);

    /// <summary>
    /// Start poses as the Start-Kit sets them: every robot on its start cell facing east
    /// (orientation is not in the files).
    /// </summary>
    public RobotPose[] CreateStartPoses()
    {
        var poses = new RobotPose[StartCells.Count];
        for (var i = 0; i < poses.Length; i++)
        {
            poses[i] = new RobotPose(StartCells[i], Heading.East);
        }

        return poses;
    }

    /// <summary>
    /// Loads an instance from its config; relative paths in the config are resolved against the
    /// config's folder. Any problem raises <see cref="DomainFormatException"/> naming the file and line.
    /// </summary>
    public static LorrInstance Load(string jsonPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(jsonPath);
        var configPath = Path.GetFullPath(jsonPath);
        var config = LorrConfig.Load(configPath);
        var folder = Path.GetDirectoryName(configPath) ?? ".";

        var mapPath = Resolve(config, folder, "mapFile", config.MapFile);
        var agentsPath = Resolve(config, folder, "agentFile", config.AgentFile);
        var tasksPath = Resolve(config, folder, "taskFile", config.TaskFile);

        var map = GridMapReader.Load(mapPath);
        var agents = LorrAgentsReader.Load(agentsPath, map);
        if (agents.Count < config.TeamSize)
        {
            throw new DomainFormatException(
                configPath,
                config.LineOf("teamSize"),
                $"teamSize is {config.TeamSize} but {config.AgentFile} lists only {agents.Count} start cells");
        }

        var tasks = LorrTasksReader.Load(tasksPath, map);
        if (tasks.Count == 0)
        {
            throw new DomainFormatException(configPath, config.LineOf("taskFile"), $"{config.TaskFile} lists no tasks");
        }

        var starts = new int[config.TeamSize];
        for (var i = 0; i < starts.Length; i++)
        {
            starts[i] = agents[i];
        }

        return new LorrInstance
        {
            Name = Path.GetFileNameWithoutExtension(configPath),
            Config = config,
            ConfigPath = configPath,
            MapPath = mapPath,
            AgentsPath = agentsPath,
            TasksPath = tasksPath,
            Map = map,
            StartCells = starts,
            AgentsListed = agents.Count,
            Tasks = tasks,
        };
    }

    private static string Resolve(LorrConfig config, string folder, string key, string relative)
    {
        string full;
        try
        {
            full = Path.GetFullPath(Path.Combine(folder, relative));
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new DomainFormatException(config.SourceName, config.LineOf(key), null, $"{key} '{relative}' is not a valid path", ex);
        }

        if (!File.Exists(full))
        {
            throw new DomainFormatException(config.SourceName, config.LineOf(key), $"{key} '{relative}' not found (looked for {full})");
        }

        return full;
    }
}
