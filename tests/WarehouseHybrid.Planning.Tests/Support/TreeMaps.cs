using WarehouseHybrid.Domain.Grid;

namespace WarehouseHybrid.Planning.Tests.Support;

/// <summary>Small random tree-shaped maps (one-wide corridors, dead ends) for property tests of jams.</summary>
internal static class TreeMaps
{
    /// <summary>
    /// A maze on a (2w-1) x (2h-1) grid: a random spanning tree over the w x h junction cells
    /// (depth-first, so long corridors and dead ends), plus <paramref name="loops"/> extra openings.
    /// </summary>
    public static GridMap Create(Random rng, int w, int h, int loops = 0)
    {
        var width = (2 * w) - 1;
        var height = (2 * h) - 1;
        var kinds = Enumerable.Repeat(CellKind.Obstacle, width * height).ToArray();
        var seen = new bool[w * h];
        var stack = new Stack<int>();
        stack.Push(0);
        seen[0] = true;
        kinds[0] = CellKind.Free;
        (int, int)[] steps = [(0, 1), (1, 0), (0, -1), (-1, 0)];
        while (stack.Count > 0)
        {
            var at = stack.Peek();
            var (r, c) = (at / w, at % w);
            var options = steps.Where(s => r + s.Item1 >= 0 && r + s.Item1 < h && c + s.Item2 >= 0 && c + s.Item2 < w && !seen[((r + s.Item1) * w) + c + s.Item2]).ToArray();
            if (options.Length == 0)
            {
                stack.Pop();
                continue;
            }

            var (dr, dc) = options[rng.Next(options.Length)];
            var next = ((r + dr) * w) + c + dc;
            seen[next] = true;
            kinds[(((2 * r) + dr) * width) + (2 * c) + dc] = CellKind.Free;
            kinds[(2 * (r + dr) * width) + (2 * (c + dc))] = CellKind.Free;
            stack.Push(next);
        }

        for (var k = 0; k < loops; k++)
        {
            var cell = rng.Next(kinds.Length);
            if ((cell / width) % 2 != (cell % width) % 2)
            {
                kinds[cell] = CellKind.Free; // a wall between two junctions
            }
        }

        return new GridMap(width, height, kinds, $"tree-{w}x{h}");
    }
}
