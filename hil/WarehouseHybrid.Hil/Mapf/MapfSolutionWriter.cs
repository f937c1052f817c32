using System.Globalization;
using System.Text;
using WarehouseHybrid.Domain.Grid;
using WarehouseHybrid.Planning.OneShot;

namespace WarehouseHybrid.Hil.Mapf;

/// <summary>
/// Writes a one-shot solution in the text format of LaCAM's <c>result.txt</c>, which the
/// community's mapf-visualizer reads: <c>key=value</c> header lines (agents, map_file, solver,
/// solved, soc, soc_lb, makespan, comp_time in ms, generated_agents), <c>starts=</c> and
/// <c>goals=</c> as <c>(x,y),</c> lists (x = column, y = row), then <c>solution=</c> followed by one
/// line per time step 0..makespan: <c>t:(x,y),(x,y),...,</c> with every agent's cell in agent order.
/// </summary>
public static class MapfSolutionWriter
{
    /// <summary>Writes the file (replacing it).</summary>
    public static void Write(string path, GridMap map, string mapName, MapfAgents agents, MapfResult result)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(agents);
        ArgumentNullException.ThrowIfNull(result);
        var paths = result.Paths ?? throw new ArgumentException("the result has no paths", nameof(result));
        using var w = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 16);
        var inv = CultureInfo.InvariantCulture;
        w.Write(string.Create(inv, $"agents={paths.Length}\nmap_file={mapName}\nsolver=WarehouseHybrid LaCAM+LNS\nsolved=1\n"));
        w.Write(string.Create(inv, $"soc={result.SumOfCosts}\nsoc_lb={result.LowerBound}\nmakespan={result.Makespan}\ncomp_time={(long)result.Elapsed.TotalMilliseconds}\n"));
        w.Write(string.Create(inv, $"generated_agents={agents.Generated}\n"));
        WriteCells(w, map, "starts=", agents.Starts);
        WriteCells(w, map, "goals=", agents.Goals);
        w.Write("solution=\n");
        var row = new int[paths.Length];
        for (var t = 0; t <= result.Makespan; t++)
        {
            for (var i = 0; i < paths.Length; i++)
            {
                var p = paths[i];
                row[i] = t < p.Length ? p[t] : p[^1];
            }

            WriteCells(w, map, string.Create(inv, $"{t}:"), row);
        }
    }

    private static void WriteCells(StreamWriter w, GridMap map, string prefix, IReadOnlyList<int> cells)
    {
        w.Write(prefix);
        var inv = CultureInfo.InvariantCulture;
        foreach (var c in cells)
        {
            w.Write(string.Create(inv, $"({map.Column(c)},{map.Row(c)}),"));
        }

        w.Write('\n');
    }
}
