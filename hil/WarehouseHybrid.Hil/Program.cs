using System.CommandLine;
using System.Runtime.InteropServices;
using WarehouseHybrid.Hil.Cli;

namespace WarehouseHybrid.Hil;

/// <summary>The rig's command line: <c>demo</c>, <c>lorr</c>, <c>mapf</c> and later commands.</summary>
public static class Program
{
    /// <summary>Entry point.</summary>
    public static async Task<int> Main(string[] args)
    {
        var root = new RootCommand("WarehouseHybrid hardware-in-the-loop rig: the demo, scenarios and soaks, record and replay, the fleet and LoRR benches.")
        {
            DemoCommand.Create(),
            LorrCommand.Create(),
            BenchCommand.Create(),
            ScenarioCommand.Create(),
            ScenarioCommand.CreateReplay(),
            SoakCommand.Create(),
            MapfCommand.Create(),
        };

        // Ctrl+C and SIGTERM (systemd, CI, kill) cancel the running command, which then shuts down cleanly.
        // Handled here, once, so no hosted component's console lifetime can swallow the signal.
        using var stop = new CancellationTokenSource();
        void Cancel(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }

        using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);
        return await root.Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }, stop.Token);
    }
}
