using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace WarehouseHybrid.Hil.Daemons;

/// <summary>
/// A program the rig runs as its own child (socat, Mosquitto, an edge daemon): output kept (bounded) for error
/// messages, stopped by its own process id only (SIGTERM, then SIGKILL after a deadline), never by name: other
/// rigs and tests share the machine.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private const int SigTerm = 15;
    private const int MaxOutput = 256 * 1024;
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ChildProcess(Process process, string name)
    {
        _process = process;
        Name = name;
    }

    /// <summary>Raised for each output line (stdout and stderr), on a thread-pool thread.</summary>
    public event Action<string>? Line;

    /// <summary>What it is (for messages).</summary>
    public string Name { get; }

    /// <summary>Its process id.</summary>
    public int Pid => _process.Id;

    private bool _disposed;
    private int? _exitCode;

    /// <summary>Whether it is still running.</summary>
    public bool IsRunning => !_disposed && !_process.HasExited;

    /// <summary>Exit code once it has ended.</summary>
    public int? ExitCode => _disposed ? _exitCode : _process.HasExited ? _process.ExitCode : null;

    /// <summary>Everything it printed so far (bounded).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Finds an executable on PATH (and /usr/sbin, /sbin); null when not installed.</summary>
    public static string? Find(string name)
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin") + ":/usr/sbin:/sbin";
        return path.Split(':', StringSplitOptions.RemoveEmptyEntries).Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);
    }

    /// <summary>Starts a program with arguments; <paramref name="onLine"/> sees each output line from the start.</summary>
    public static ChildProcess Start(string name, string executable, IEnumerable<string> arguments, Action<string>? onLine = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo(executable)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var a in arguments)
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }

        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var child = new ChildProcess(process, name);
        if (onLine is not null)
        {
            child.Line += onLine;
        }

        process.OutputDataReceived += (_, e) => child.Append(e.Data);
        process.ErrorDataReceived += (_, e) => child.Append(e.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException($"{name}: {executable} did not start");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Waits for it to end.</summary>
    public Task WaitForExitAsync(CancellationToken cancellationToken = default) => _process.WaitForExitAsync(cancellationToken);

    /// <summary>SIGTERM to its pid, then SIGKILL when it has not ended within <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (_disposed || _process.HasExited)
        {
            return;
        }

        _ = Kill(_process.Id, SigTerm);
        using var cts = new CancellationTokenSource(grace);
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            await KillAsync().ConfigureAwait(false);
        }
    }

    /// <summary>SIGKILL (a crash, a pulled plug).</summary>
    public async Task KillAsync()
    {
        if (_disposed || _process.HasExited)
        {
            return;
        }

        try
        {
            _process.Kill(entireProcessTree: false);
        }
        catch (InvalidOperationException)
        {
            // ended meanwhile
        }

        await _process.WaitForExitAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        await StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        _exitCode = _process.HasExited ? _process.ExitCode : null;
        _disposed = true;
        _process.Dispose();
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
#pragma warning disable SYSLIB1054, CA5392 // One call, no marshalling; libc is the system's.
    private static extern int Kill(int pid, int signal);
#pragma warning restore SYSLIB1054, CA5392

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            if (_output.Length < MaxOutput)
            {
                _output.AppendLine(line);
            }
        }

        Line?.Invoke(line);
    }
}
