using System.CommandLine;
using WarehouseHybrid.Hil.Cli;

namespace WarehouseHybrid.Hil;

/// <summary>The rig's command line: <c>demo</c>, <c>lorr</c> and later commands.</summary>
public static class Program
{
    /// <summary>Entry point.</summary>
    public static Task<int> Main(string[] args)
    {
        var root = new RootCommand("WarehouseHybrid hardware-in-the-loop rig: the demo, the LoRR bench and scenarios.")
        {
            DemoCommand.Create(),
            LorrCommand.Create(),
        };
        return root.Parse(args).InvokeAsync();
    }
}
