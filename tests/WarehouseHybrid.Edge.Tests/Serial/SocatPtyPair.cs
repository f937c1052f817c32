using System.Diagnostics;
using System.Text;

namespace WarehouseHybrid.Edge.Tests.Serial;

/// <summary>
/// A real pseudo-terminal pair from socat (started as a child process, killed by its own process id):
/// <see cref="DaemonPath"/> and <see cref="BoardPath"/> are symlinks to two ptys whose bytes socat copies across.
/// <see cref="Unplug"/> kills socat and removes the links (the device node vanishes); <see cref="Replug"/> starts
/// a new socat with the same link paths.
/// </summary>
internal sealed class SocatPtyPair : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(10);
    private readonly string _dir;
    private Process? _socat;

    private SocatPtyPair(string dir)
    {
        _dir = dir;
        DaemonPath = Path.Combine(dir, "daemon");
        BoardPath = Path.Combine(dir, "board");
    }

    public string DaemonPath { get; }

    public string BoardPath { get; }

    public static bool Available => FindSocat() is not null;

    public static SocatPtyPair Start()
    {
        var dir = Path.Combine(Path.GetTempPath(), "wh-pty-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        var pair = new SocatPtyPair(dir);
        pair.Replug();
        return pair;
    }

    /// <summary>Starts socat and waits until it reports its transfer loop (both links exist then).</summary>
    public void Replug()
    {
        if (_socat is not null)
        {
            throw new InvalidOperationException("socat is already running");
        }

        var exe = FindSocat() ?? throw new InvalidOperationException("socat is not installed (./test.sh installs it: NEED[socat]=socat)");
        var psi = new ProcessStartInfo(exe)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("-d");
        psi.ArgumentList.Add("-d");
        psi.ArgumentList.Add($"pty,raw,echo=0,link={DaemonPath}");
        psi.ArgumentList.Add($"pty,raw,echo=0,link={BoardPath}");
        var ready = new ManualResetEventSlim(false);
        var log = new StringBuilder();
        var process = new Process { StartInfo = psi };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (log)
            {
                log.AppendLine(e.Data);
            }

            if (e.Data.Contains("starting data transfer loop", StringComparison.Ordinal))
            {
                ready.Set();
            }
        };
        process.Start();
        process.BeginErrorReadLine();
        if (!ready.Wait(StartTimeout) || !File.Exists(DaemonPath) || !File.Exists(BoardPath))
        {
            process.Kill();
            process.WaitForExit();
            throw new InvalidOperationException($"socat did not open the pty pair within {StartTimeout}: {log}");
        }

        _socat = process;
    }

    /// <summary>Kills socat (SIGKILL, like pulling the cable) and removes the links, as udev removes a device node.</summary>
    public void Unplug()
    {
        var p = _socat ?? throw new InvalidOperationException("socat is not running");
        _socat = null;
        p.Kill();
        p.WaitForExit();
        p.Dispose();
        File.Delete(DaemonPath);
        File.Delete(BoardPath);
    }

    public void Dispose()
    {
        if (_socat is not null)
        {
            Unplug();
        }

        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string? FindSocat()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':'))
        {
            var candidate = Path.Combine(dir, "socat");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
