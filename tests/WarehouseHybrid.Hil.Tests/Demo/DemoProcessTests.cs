using System.Diagnostics;
using System.Text;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Hil.Tests.Demo;

/// <summary>The demo as a real child process: Ctrl+C (SIGINT) and SIGTERM stop it cleanly.</summary>
public sealed class DemoProcessTests
{
    [Theory]
    [InlineData("INT")]
    [InlineData("TERM")]
    public async Task A_signal_stops_the_demo_process_cleanly(string signal)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "WarehouseHybrid.Hil.dll");
        Assert.True(File.Exists(dll), $"rig program missing: {dll}");
        var output = new StringBuilder();
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var process = new Process
        {
            // Through env --default-signal: a suite started from a background job (nohup, `&` in a script) has SIGINT
            // ignored, every child inherits that, and the runtime keeps an inherited ignore, so Ctrl+C could not be
            // tested; env resets SIGINT to its default and then becomes the demo (same pid).
            StartInfo = new ProcessStartInfo("env", ["--default-signal=INT", "dotnet", dll, "demo", "--robots", "4", "--duration", "5m"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = RepoPaths.Root,
            },
        };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (output)
            {
                output.AppendLine(e.Data);
            }

            if (e.Data.StartsWith("Running", StringComparison.Ordinal))
            {
                running.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, _) => { };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await running.Task.WaitAsync(TimeSpan.FromMinutes(2));
            using (var kill = Process.Start("kill", ["-" + signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            await process.WaitForExitAsync(deadline.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        string log;
        lock (output)
        {
            log = output.ToString();
        }

        Assert.Equal(0, process.ExitCode);
        Assert.Contains("Stopping...", log, StringComparison.Ordinal);
        Assert.Contains("shutdown clean", log, StringComparison.Ordinal);
    }
}
