using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace WarehouseHybrid.Tests.Common.Servers;

/// <summary>
/// A real server (Mosquitto, Redis, PostgreSQL) run by a test as a child process on a loopback port, in a
/// temporary directory of its own. It is stopped by its own process id (never by name: other test runs share
/// the machine), its output is kept for failure messages, and disposing it always ends the process and removes
/// the directory. <see cref="KillAsync"/> (SIGKILL) and <see cref="RestartAsync"/> on the same port let tests
/// take the server away and bring it back (broker outages, storage failover).
/// </summary>
internal abstract class ServerProcess : IAsyncDisposable
{
    /// <summary>How long a server may take to accept connections.</summary>
    protected static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private const int SigTerm = 15;
    private readonly StringBuilder _output = new();
    private Process? _process;
    private bool _disposed;

    /// <summary>Prepares a server on a free loopback port in a new temporary directory.</summary>
    protected ServerProcess(string name, int? port = null)
    {
        Name = name;
        Port = port ?? FreePort.Next();
        Directory = System.IO.Directory.CreateTempSubdirectory($"wh-{name}-").FullName;
    }

    /// <summary>Which server this is (for messages).</summary>
    public string Name { get; }

    /// <summary>The loopback port it listens on (kept across restarts).</summary>
    public int Port { get; }

    /// <summary>Its private directory (configuration, data, logs).</summary>
    public string Directory { get; }

    /// <summary>Always the loopback address.</summary>
    public string Host => "127.0.0.1";

    /// <summary>The process id while it runs.</summary>
    public int? ProcessId => _process is { HasExited: false } p ? p.Id : null;

    /// <summary>Whether the process is running.</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>What the server printed so far (stdout and stderr, interleaved).</summary>
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

    /// <summary>Finds an executable on PATH or in the given directories; null when not installed.</summary>
    public static string? FindExecutable(string name, params string[] extraDirectories)
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin") + ":/usr/sbin:/sbin";
        foreach (var dir in extraDirectories.Concat(path.Split(':', StringSplitOptions.RemoveEmptyEntries)))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Starts the process and waits until <see cref="IsReadyAsync"/> holds; throws with its output otherwise.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (IsRunning)
        {
            throw new InvalidOperationException($"{Name} is already running (pid {_process!.Id})");
        }

        await PrepareAsync(cancellationToken);
        var psi = CreateStartInfo();
        psi.UseShellExecute = false;
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException($"{Name} did not start: {psi.FileName}");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        var started = TimeProvider.System.GetTimestamp();
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with code {process.ExitCode} while starting on port {Port}:\n{Output}{ReadLogTail()}");
            }

            if (await IsReadyAsync(cancellationToken))
            {
                return;
            }

            if (TimeProvider.System.GetElapsedTime(started) > StartTimeout)
            {
                await KillAsync();
                throw new TimeoutException($"{Name} did not accept connections on port {Port} within {StartTimeout}:\n{Output}{ReadLogTail()}");
            }

            await Task.Delay(20, cancellationToken);
        }
    }

    /// <summary>Asks the server to stop (SIGTERM to its pid) and waits for it; kills it after <paramref name="timeout"/>.</summary>
    public async Task StopAsync(TimeSpan? timeout = null)
    {
        var p = _process;
        if (p is null || p.HasExited)
        {
            return;
        }

        _ = Kill(p.Id, SigTerm);
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            await KillAsync();
        }
    }

    /// <summary>Ends the server at once (SIGKILL), as a crash or a pulled plug would.</summary>
    public async Task KillAsync()
    {
        var p = _process;
        if (p is null || p.HasExited)
        {
            return;
        }

        try
        {
            p.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited meanwhile.
        }

        await p.WaitForExitAsync();
    }

    /// <summary>Stops (or kills) the server and starts it again on the same port with the same directory.</summary>
    public async Task RestartAsync(bool kill = false, CancellationToken cancellationToken = default)
    {
        if (kill)
        {
            await KillAsync();
        }
        else
        {
            await StopAsync();
        }

        await StartAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await StopAsync(TimeSpan.FromSeconds(5));
        _process?.Dispose();
        await CleanUpAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Writes configuration (and initialises data) before each start.</summary>
    protected virtual Task PrepareAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The command line of the server.</summary>
    protected abstract ProcessStartInfo CreateStartInfo();

    /// <summary>Whether the server answers now; the default accepts a TCP connection on <see cref="Port"/>.</summary>
    protected virtual async Task<bool> IsReadyAsync(CancellationToken cancellationToken) => await CanConnectAsync(cancellationToken);

    /// <summary>A log file to quote when the server fails to start (null: only its output).</summary>
    protected virtual string? LogFile => null;

    /// <summary>Extra clean-up after the process has ended.</summary>
    protected virtual Task CleanUpAsync() => Task.CompletedTask;

    /// <summary>Whether a TCP connection to the port succeeds now.</summary>
    protected async Task<bool> CanConnectAsync(CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(TimeSpan.FromSeconds(1));
            await client.ConnectAsync(Host, Port, cts.Token);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Runs a helper program to completion (initdb, a client), throwing with its output when it fails.</summary>
    protected static async Task<string> RunToCompletionAsync(ProcessStartInfo psi, CancellationToken cancellationToken)
    {
        psi.UseShellExecute = false;
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {psi.FileName}");
        var stdout = p.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = p.StandardError.ReadToEndAsync(cancellationToken);
        await p.WaitForExitAsync(cancellationToken);
        var text = await stdout + await stderr;
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{psi.FileName} {string.Join(' ', psi.ArgumentList)} exited with {p.ExitCode}:\n{text}");
        }

        return text;
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
#pragma warning disable SYSLIB1054 // One call, no marshalling: DllImport keeps the test projects free of unsafe code.
    private static extern int Kill(int pid, int signal);
#pragma warning restore SYSLIB1054

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            if (_output.Length < 256 * 1024)
            {
                _output.AppendLine(line);
            }
        }
    }

    private string ReadLogTail()
    {
        if (LogFile is not { } file || !File.Exists(file))
        {
            return string.Empty;
        }

        var text = File.ReadAllText(file);
        return "\n--- " + Path.GetFileName(file) + " ---\n" + (text.Length > 8000 ? text[^8000..] : text);
    }
}
