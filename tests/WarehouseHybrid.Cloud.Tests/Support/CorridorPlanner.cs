using WarehouseHybrid.Domain.Actions;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Planning.Fleet;

namespace WarehouseHybrid.Cloud.Tests.Support;

/// <summary>
/// A tiny, obviously correct planner for tests: robot 0 takes tasks in submission order and drives
/// forward toward each errand while that brings it closer; every other robot waits. Valid on maps
/// where robot 0 faces its errands in a straight line (the test corridor).
/// Optionally blocks in PlanStep until <see cref="Release"/> so tests can see the grain answer while planning.
/// </summary>
internal sealed class CorridorPlanner(GridMap map, int robotCount, bool gated = false) : IFleetPlanner
{
    private readonly Queue<PlanningTask> _open = new();
    private readonly SemaphoreSlim _gate = new(0);
    private PlanningTask? _current;
    private int _next;
    private int _planCalls;

    public int RobotCount { get; } = robotCount;

    public int OpenTaskCount => _open.Count + (_current is null ? 0 : 1);

    public int PlanCalls => Volatile.Read(ref _planCalls);

    public void SubmitTask(PlanningTask task) => _open.Enqueue(task);

    public void Release(int steps = 1) => _gate.Release(steps);

    public PlannerStepResult PlanStep(ReadOnlySpan<RobotPose> poses, TimeSpan budget, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _planCalls);
        if (gated)
        {
            _gate.Wait(cancellationToken);
        }

        var result = new PlannerStepResult(RobotCount);
        var pose = poses[0];
        if (_current is not null && pose.Cell == _current.Errands[_next])
        {
            if (_next == _current.Errands.Count - 1)
            {
                result.FinishedTaskIds.Add(_current.Id);
                _current = null;
            }
            else
            {
                result.ErrandsReached.Add((0, _current.Id, _next));
                _next++;
            }
        }

        if (_current is null && _open.Count > 0)
        {
            _current = _open.Dequeue();
            _next = 0;
        }

        if (_current is not null)
        {
            var goal = _current.Errands[_next];
            result.Assignments[0] = new RobotAssignment(_current.Id, _next, goal);
            var ahead = map.Neighbour(pose.Cell, pose.Heading);
            if (ahead >= 0 && map.Manhattan(ahead, goal) < map.Manhattan(pose.Cell, goal))
            {
                result.Actions[0] = RobotAction.Forward;
            }
        }

        return result;
    }
}
