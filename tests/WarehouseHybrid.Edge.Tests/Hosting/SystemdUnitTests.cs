using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Edge.Tests.Hosting;

/// <summary>The shipped unit file checked by the real systemd-analyze (./test.sh installs it: NEED[systemd-analyze]=systemd).</summary>
public sealed partial class SystemdUnitTests
{
    /// <summary>systemd-analyze's exposure scale: 0 safest, 10 unprotected; below 2 is "OK".</summary>
    private const double MaxExposure = 2.0;

    private static readonly string UnitPath = Path.Combine(RepoPaths.Root, "deploy", "systemd", "warehouse-edge.service");

    [Fact]
    public void The_unit_verifies_cleanly()
    {
        // verify also checks that ExecStart exists: point it at a binary that does, in a temp copy.
        var dir = Directory.CreateTempSubdirectory("wh-unit-");
        try
        {
            var text = File.ReadAllText(UnitPath);
            text = Regex.Replace(text, "^ExecStart=.*$", "ExecStart=/bin/true", RegexOptions.Multiline);
            text = Regex.Replace(text, "^WorkingDirectory=.*$", "WorkingDirectory=/", RegexOptions.Multiline);
            var copy = Path.Combine(dir.FullName, "warehouse-edge.service");
            File.WriteAllText(copy, text);
            var (code, stdout, stderr) = Run("verify", "--man=no", copy);
            Assert.True(code == 0 && stderr.Trim().Length == 0, $"systemd-analyze verify exited {code}: {stdout}{stderr}");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void The_exposure_score_is_below_the_threshold()
    {
        var (code, stdout, stderr) = Run("security", "--offline=true", UnitPath);
        var match = ExposureLine().Match(stdout + stderr);
        Assert.True(match.Success, $"no exposure score in the output (exit {code}): {stdout}{stderr}");
        var score = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(score < MaxExposure, $"exposure {score} is not below {MaxExposure}");
    }

    [Fact]
    public void The_unit_keeps_the_least_privilege_settings_the_daemon_relies_on()
    {
        var lines = File.ReadAllLines(UnitPath).Select(l => l.Trim()).Where(l => l.Length > 0 && l[0] != '#').ToHashSet();
        foreach (var required in new[]
        {
            "Type=notify", "WatchdogSec=5", "DynamicUser=yes", "SupplementaryGroups=dialout", "CapabilityBoundingSet=",
            "ProtectSystem=strict", "DevicePolicy=closed", "DeviceAllow=char-ttyTHS rw", "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
            "SystemCallFilter=@system-service", "StateDirectory=warehouse-edge", "NoNewPrivileges=yes",
        })
        {
            Assert.Contains(required, lines);
        }

        // The .NET JIT needs writable+executable mappings.
        Assert.DoesNotContain(lines, l => l.StartsWith("MemoryDenyWriteExecute=yes", StringComparison.Ordinal));
    }

    private static (int Code, string Stdout, string Stderr) Run(params string[] args)
    {
        var psi = new ProcessStartInfo("systemd-analyze") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["SYSTEMD_COLORS"] = "0";
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("systemd-analyze did not start (./test.sh installs it: NEED[systemd-analyze]=systemd)");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            p.Kill();
            throw new TimeoutException("systemd-analyze did not finish within 60 s");
        }

        return (p.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }

    [GeneratedRegex(@"Overall exposure level for \S+: ([0-9]+\.[0-9]+)")]
    private static partial Regex ExposureLine();
}
