using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Lorr;

namespace WarehouseHybrid.Hil.Lorr;

/// <summary>Action codes kept per robot per step: the four actions plus the Start-Kit's 'T' (timeout / missing).</summary>
public static class TapeCodes
{
    /// <summary>'T': implicit wait (entry timeout or missing action).</summary>
    public const byte Timeout = 4;

    /// <summary>The output letter of a tape code.</summary>
    public static byte Letter(byte code) => code switch
    {
        0 => (byte)'F',
        1 => (byte)'R',
        2 => (byte)'C',
        3 => (byte)'W',
        _ => (byte)'T',
    };

    /// <summary>The tape code of an output letter, or -1.</summary>
    public static int FromLetter(char c) => c switch
    {
        'F' => 0,
        'R' => 1,
        'C' => 2,
        'W' => 3,
        'T' => Timeout,
        _ => -1,
    };

    /// <summary>The action a code stands for when replaying ('T' is a wait).</summary>
    public static RobotAction Action(byte code) => code < 4 ? (RobotAction)code : RobotAction.Wait;
}

/// <summary>
/// Every robot's actions, one byte per robot per step, stored step by step (n bytes per step:
/// 10,000 robots x 5,000 steps is 50 MB per tape).
/// </summary>
public sealed class ActionTape
{
    private readonly List<byte[]> _steps = new();

    /// <summary>Creates a tape for <paramref name="robots"/> robots.</summary>
    public ActionTape(int robots) => Robots = robots;

    /// <summary>Number of robots.</summary>
    public int Robots { get; }

    /// <summary>Steps recorded.</summary>
    public int Count => _steps.Count;

    /// <summary>Appends a step of actions (a wrong-length span records 'T' for every robot).</summary>
    public void Append(ReadOnlySpan<RobotAction> actions)
    {
        var row = new byte[Robots];
        if (actions.Length != Robots)
        {
            Array.Fill(row, TapeCodes.Timeout);
        }
        else
        {
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = (byte)actions[i] <= 3 ? (byte)actions[i] : TapeCodes.Timeout;
            }
        }

        _steps.Add(row);
    }

    /// <summary>Appends a step where every robot has <paramref name="code"/>.</summary>
    public void AppendAll(byte code)
    {
        var row = new byte[Robots];
        Array.Fill(row, code);
        _steps.Add(row);
    }

    /// <summary>The code of <paramref name="robot"/> at <paramref name="step"/>.</summary>
    public byte this[int step, int robot] => _steps[step][robot];
}

/// <summary>One recorded error: the robots involved, the step and the Start-Kit's message.</summary>
/// <param name="Robot1">First robot (-1 when none).</param>
/// <param name="Robot2">Second robot (-1 when only one is involved).</param>
/// <param name="Timestep">The step it happened at (the step the move would have reached).</param>
/// <param name="Message">The Start-Kit's description, e.g. "vertex conflict".</param>
/// <param name="TaskId">The task concerned (schedule errors), else -1.</param>
public readonly record struct LorrError(int Robot1, int Robot2, int Timestep, string Message, int TaskId = -1);

/// <summary>A task event: 2024+: [timestep, agent, task, sequence]; 2023: sequence 0 = assigned, 1 = finished.</summary>
/// <param name="Timestep">When.</param>
/// <param name="Agent">Which robot.</param>
/// <param name="TaskId">Which task.</param>
/// <param name="Sequence">2024+: errands done after the event; 2023: 0 assigned, 1 finished.</param>
public readonly record struct LorrEvent(int Timestep, int Agent, int TaskId, int Sequence);

/// <summary>A revealed task: its id, when it was revealed and which file entry it is.</summary>
/// <param name="Id">Task id (reveal order).</param>
/// <param name="ReleaseTime">Step it was revealed.</param>
/// <param name="FileIndex">Index in the instance's task list.</param>
/// <param name="Agent">2023: the robot it was assigned to; else -1.</param>
public readonly record struct LorrRevealedTask(int Id, int ReleaseTime, int FileIndex, int Agent = -1);

/// <summary>Everything a bench run produced: statistics and the data of the output file.</summary>
public sealed class LorrRunRecord
{
    /// <summary>Creates an empty record.</summary>
    public LorrRunRecord(LorrInstance instance, int steps, TimeSpan planBudget)
    {
        Instance = instance;
        Steps = steps;
        PlanBudget = planBudget;
        var n = instance.TeamSize;
        Starts = instance.CreateStartPoses();
        ActualTape = new ActionTape(n);
        PlannerTape = new ActionTape(n);
        ActualSchedule = new List<(int, int)>[n];
        PlannerSchedule = new List<(int, int)>[n];
        for (var i = 0; i < n; i++)
        {
            ActualSchedule[i] = new List<(int, int)>();
            PlannerSchedule[i] = new List<(int, int)>();
        }

        SolutionCosts = new long[n];
    }

    /// <summary>The instance.</summary>
    public LorrInstance Instance { get; }

    /// <summary>Requested horizon (2026: execution ticks).</summary>
    public int Steps { get; }

    /// <summary>Planning budget per call.</summary>
    public TimeSpan PlanBudget { get; }

    /// <summary>Start poses.</summary>
    public RobotPose[] Starts { get; }

    /// <summary>Executed actions (2026: one entry per action episode of <see cref="TicksPerStep"/> ticks).</summary>
    public ActionTape ActualTape { get; }

    /// <summary>Actions the entrant proposed.</summary>
    public ActionTape PlannerTape { get; }

    /// <summary>Ticks per tape step (1: one tape entry per step, or per execution tick in 2026).</summary>
    public int TicksPerStep { get; set; } = 1;

    /// <summary>2026: ticks per action (the instance's <c>agentCounter</c>, written as <c>agentMaxCounter</c>).</summary>
    public int AgentCounter { get; set; } = 1;

    /// <summary>Per robot: (timestep, task) whenever its accepted first task changed.</summary>
    public List<(int Time, int Task)>[] ActualSchedule { get; }

    /// <summary>Per robot: (timestep, task) whenever the entrant's proposal changed.</summary>
    public List<(int Time, int Task)>[] PlannerSchedule { get; }

    /// <summary>Planner (action) errors.</summary>
    public List<LorrError> Errors { get; } = new();

    /// <summary>Schedule errors.</summary>
    public List<LorrError> ScheduleErrors { get; } = new();

    /// <summary>Task events in order.</summary>
    public List<LorrEvent> Events { get; } = new();

    /// <summary>Revealed tasks in reveal order.</summary>
    public List<LorrRevealedTask> Tasks { get; } = new();

    /// <summary>Wall time of each planning call, in seconds (as the Start-Kit's plannerTimes).</summary>
    public List<double> PlannerTimes { get; } = new();

    /// <summary>Per robot: steps (2026: ticks) during which it had a task.</summary>
    public long[] SolutionCosts { get; }

    /// <summary>2026: per robot delay intervals [start, end] in ticks.</summary>
    public List<(int Start, int End)>[]? DelayIntervals { get; set; }

    /// <summary>2026: where the robots' ticks went (null under other rules).</summary>
    public LorrTickAccount? TickAccount { get; set; }

    /// <summary>Tasks (2023: errands) finished.</summary>
    public int NumTaskFinished { get; set; }

    /// <summary>Steps whose actions the validator rejected (everyone waited).</summary>
    public int NumPlannerErrors { get; set; }

    /// <summary>Steps lost to entry timeouts.</summary>
    public int NumEntryTimeouts { get; set; }

    /// <summary>Robots frozen with a task (the bench's deadlock/livelock report), when tracked.</summary>
    public LorrIdleTracker? Idle { get; init; }

    /// <summary>Approximations made for this generation (empty when the rules are reproduced).</summary>
    public List<string> Approximations { get; } = new();

    /// <summary>The <paramref name="q"/>-quantile of planner times in milliseconds.</summary>
    public double PlanMsPercentile(double q)
    {
        if (PlannerTimes.Count == 0)
        {
            return 0;
        }

        var sorted = PlannerTimes.Order().ToArray();
        var idx = (int)Math.Clamp(Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1);
        return sorted[idx] * 1000.0;
    }
}
