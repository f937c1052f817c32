using ScottPlot;
using WarehouseHybrid.Domain.Grid;

namespace WarehouseHybrid.Hil.Reports;

/// <summary>The report's PNG plots (ScottPlot 5, rendered by SkiaSharp without system font dependencies).</summary>
public static class Plots
{
    private const int MaxRobotsPlotted = 60;

    /// <summary>Robot trajectories over the map (obstacles dark), the map's y pointing down as on screen.</summary>
    public static void Trajectories(GridMap map, double cellSize, RunTrace trace, string file, string title)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(trace);
        var plot = new Plot();
        var grid = new double[map.Height, map.Width];
        for (var r = 0; r < map.Height; r++)
        {
            for (var c = 0; c < map.Width; c++)
            {
                grid[r, c] = map.IsPassable(map.CellAt(r, c)) ? 0 : 1;
            }
        }

        var heat = plot.Add.Heatmap(grid);
        heat.Colormap = new ScottPlot.Colormaps.GrayscaleReversed();
        heat.Extent = new CoordinateRect(0, map.Width * cellSize, map.Height * cellSize, 0);
        heat.FlipVertically = false;
        var palette = new ScottPlot.Palettes.Category20();
        for (var i = 0; i < trace.Trajectories.Length && i < MaxRobotsPlotted; i++)
        {
            var points = trace.Trajectories[i];
            if (points.Count < 2)
            {
                continue;
            }

            var line = plot.Add.ScatterLine(points.Select(p => p.X).ToArray(), points.Select(p => p.Y).ToArray());
            line.Color = palette.GetColor(i);
            line.LineWidth = 1.5f;
            var end = plot.Add.Marker(points[^1].X, points[^1].Y);
            end.Color = palette.GetColor(i);
            end.Size = 6;
        }

        plot.Axes.InvertY();
        plot.Axes.SquareUnits();
        plot.Title(title);
        plot.XLabel("x (m, columns)");
        plot.YLabel("y (m, rows)");
        var aspect = (double)map.Width / Math.Max(1, map.Height);
        var width = 1200;
        var height = (int)Math.Clamp(width / aspect, 300, 1200);
        plot.SavePng(file, width, height);
    }

    /// <summary>Wall time of each rig tick (the slowest per bucket) over scenario time, fault windows shaded.</summary>
    public static void TickLatency(RunTrace trace, string file, string title)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var plot = new Plot();
        Shade(plot, trace);
        if (trace.Ticks.Count > 0)
        {
            var line = plot.Add.ScatterLine(trace.Ticks.Select(t => t.T).ToArray(), trace.Ticks.Select(t => t.Ms).ToArray());
            line.LineWidth = 1;
        }

        plot.Title(title);
        plot.XLabel("scenario time (s)");
        plot.YLabel("tick wall time (ms, slowest per bucket)");
        plot.SavePng(file, 1200, 400);
    }

    /// <summary>Each robot's decision mode over time, one band per robot, fault windows shaded.</summary>
    public static void ModeTimeline(RunTrace trace, double endSeconds, string file, string title)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var plot = new Plot();
        Shade(plot, trace);
        var colours = new Dictionary<string, Color>(StringComparer.Ordinal)
        {
            ["Learned"] = Colors.SeaGreen,
            ["Rule"] = Colors.SteelBlue,
            ["ShieldStop"] = Colors.Crimson,
            ["Escalated"] = Colors.DarkOrange,
            ["Unknown"] = Colors.Gray,
        };
        var shown = new HashSet<string>(StringComparer.Ordinal);
        var robots = Math.Min(trace.Modes.Length, MaxRobotsPlotted);
        for (var i = 0; i < robots; i++)
        {
            var changes = trace.Modes[i];
            for (var k = 0; k < changes.Count; k++)
            {
                var start = changes[k].T;
                var end = k + 1 < changes.Count ? changes[k + 1].T : endSeconds;
                var colour = colours.GetValueOrDefault(changes[k].Mode, Colors.Black);
                var bar = plot.Add.Rectangle(start, Math.Max(end, start + 0.01), i - 0.4, i + 0.4);
                bar.FillColor = colour;
                bar.LineWidth = 0;
                if (shown.Add(changes[k].Mode))
                {
                    bar.LegendText = changes[k].Mode;
                }
            }
        }

        plot.Axes.SetLimitsY(-1, robots);
        plot.Title(title);
        plot.XLabel("scenario time (s)");
        plot.YLabel("robot index");
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(file, 1200, Math.Clamp(120 + (robots * 14), 300, 1000));
    }

    private static void Shade(Plot plot, RunTrace trace)
    {
        foreach (var (id, start, end) in trace.FaultWindows)
        {
            var span = plot.Add.HorizontalSpan(start, Math.Max(end, start + 0.05));
            span.FillColor = Colors.Orange.WithAlpha(0.15);
            span.LineWidth = 0;
            span.LegendText = string.Empty;
            _ = id;
        }
    }
}
