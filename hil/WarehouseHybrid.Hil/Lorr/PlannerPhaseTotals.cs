using System.Globalization;
using WarehouseHybrid.Planning.Fleet;

namespace WarehouseHybrid.Hil.Lorr;

/// <summary>Sums the optimizer's per-phase planning times over a bench run, for its closing report.</summary>
public sealed class PlannerPhaseTotals
{
    private TimeSpan _schedule;
    private TimeSpan _tables;
    private TimeSpan _route;
    private TimeSpan _search;
    private int _steps;
    private int _fallbacks;

    /// <summary>Adds one step.</summary>
    public void Add(PlannerStepResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        _steps++;
        _fallbacks += result.UsedFallback ? 1 : 0;
        _schedule += result.Phases.Schedule;
        _tables += result.Phases.Tables;
        _route += result.Phases.Route;
        _search += result.Phases.Search;
    }

    /// <summary>One step's phases as text.</summary>
    /// <param name="result">The step.</param>
    /// <param name="gcPause">Time the garbage collector paused the process during the step.</param>
    public static string Describe(PlannerStepResult result, TimeSpan gcPause)
    {
        ArgumentNullException.ThrowIfNull(result);
        var p = result.Phases;
        return string.Create(
            CultureInfo.InvariantCulture,
            $"schedule {p.Schedule.TotalMilliseconds:F0} ms, tables {p.Tables.TotalMilliseconds:F0} ms, route {p.Route.TotalMilliseconds:F0} ms, search {p.Search.TotalMilliseconds:F0} ms, gc pause {gcPause.TotalMilliseconds:F0} ms{(result.UsedFallback ? ", fallback (all wait)" : string.Empty)}");
    }

    /// <inheritdoc />
    public override string ToString()
    {
        var n = Math.Max(1, _steps);
        return string.Create(
            CultureInfo.InvariantCulture,
            $"planner phases, mean per step: schedule {_schedule.TotalMilliseconds / n:F1} ms, tables {_tables.TotalMilliseconds / n:F1} ms, route {_route.TotalMilliseconds / n:F1} ms, search {_search.TotalMilliseconds / n:F1} ms; {_fallbacks} fallback steps");
    }
}
