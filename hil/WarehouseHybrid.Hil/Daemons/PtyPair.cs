namespace WarehouseHybrid.Hil.Daemons;

/// <summary>
/// A pseudo-terminal pair made by socat (a child process of the rig): <see cref="DaemonPath"/> is the device the
/// edge daemon opens, <see cref="BoardPath"/> the one the virtual board opens; socat copies bytes across.
/// <see cref="UnplugAsync"/> kills socat by its pid and removes the links (the device node vanishes, as udev does when a
/// USB cable is pulled); <see cref="ReplugAsync"/> starts a new socat on the same link paths.
/// </summary>
public sealed class PtyPair : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(10);
    private readonly string _dir;
    private ChildProcess? _socat;

    private PtyPair(string dir, string name)
    {
        _dir = dir;
        DaemonPath = Path.Combine(dir, name + "-daemon");
        BoardPath = Path.Combine(dir, name + "-board");
    }

    /// <summary>The daemon's device path (a symlink to a pty).</summary>
    public string DaemonPath { get; }

    /// <summary>The board's device path.</summary>
    public string BoardPath { get; }

    /// <summary>Whether socat is running (the line is plugged in).</summary>
    public bool Plugged => _socat is { IsRunning: true };

    /// <summary>socat's pid while plugged.</summary>
    public int? Pid => _socat?.Pid;

    /// <summary>Whether socat is installed.</summary>
    public static bool Available => ChildProcess.Find("socat") is not null;

    /// <summary>Creates the pair in <paramref name="directory"/> and waits until both links exist.</summary>
    public static async Task<PtyPair> StartAsync(string directory, string name, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(directory);
        var pair = new PtyPair(directory, name);
        await pair.ReplugAsync(cancellationToken).ConfigureAwait(false);
        return pair;
    }

    /// <summary>Starts socat and waits for its transfer loop (both links exist then).</summary>
    public async Task ReplugAsync(CancellationToken cancellationToken = default)
    {
        if (Plugged)
        {
            throw new InvalidOperationException($"{DaemonPath}: socat is already running (pid {_socat!.Pid})");
        }

        var exe = ChildProcess.Find("socat") ?? throw new InvalidOperationException("socat is not installed (Debian package socat)");
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var socat = ChildProcess.Start("socat " + Path.GetFileName(DaemonPath), exe,
            ["-d", "-d", $"pty,raw,echo=0,link={DaemonPath}", $"pty,raw,echo=0,link={BoardPath}"],
            line =>
            {
                if (line.Contains("starting data transfer loop", StringComparison.Ordinal))
                {
                    ready.TrySetResult();
                }
            });
        try
        {
            await ready.Task.WaitAsync(StartTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            await socat.DisposeAsync().ConfigureAwait(false);
            throw new InvalidOperationException($"socat did not open the pty pair within {StartTimeout}: {socat.Output}");
        }

        if (!File.Exists(DaemonPath) || !File.Exists(BoardPath))
        {
            await socat.DisposeAsync().ConfigureAwait(false);
            throw new InvalidOperationException($"socat reported its loop but {DaemonPath} or {BoardPath} is missing: {socat.Output}");
        }

        _socat = socat;
    }

    /// <summary>Kills socat (SIGKILL to its pid, like pulling the cable) and removes the links.</summary>
    public async Task UnplugAsync()
    {
        var socat = _socat ?? throw new InvalidOperationException($"{DaemonPath}: not plugged in");
        _socat = null;
        await socat.KillAsync().ConfigureAwait(false);
        await socat.DisposeAsync().ConfigureAwait(false);
        File.Delete(DaemonPath);
        File.Delete(BoardPath);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_socat is not null)
        {
            await UnplugAsync().ConfigureAwait(false);
        }

        _ = _dir;
    }
}
