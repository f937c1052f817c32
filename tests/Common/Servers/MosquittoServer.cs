using System.Diagnostics;
using System.Text;

namespace WarehouseHybrid.Tests.Common.Servers;

/// <summary>
/// A real Mosquitto 2 broker (Debian's mosquitto) on a loopback port, configured by the test: plain listener by
/// default; <see cref="ExtraConfig"/> adds lines (TLS files, require_certificate, acl_file, per-listener
/// settings). Queue limits are set deliberately (PLATFORM.md: with defaults Mosquitto drops QoS 1 messages to slow
/// subscribers). Persistence is off unless <see cref="Persistence"/> is set, so a restart is a clean broker.
/// </summary>
internal sealed class MosquittoServer : ServerProcess
{
    /// <summary>Creates (does not start) a broker on a free port, or on <paramref name="port"/>.</summary>
    public MosquittoServer(int? port = null)
        : base("mosquitto", port)
    {
    }

    /// <summary>Whether mosquitto is installed (./test.sh installs it).</summary>
    public static bool Available => Executable is not null;

    /// <summary>Anonymous clients allowed on the plain listener (false when the test configures TLS identities).</summary>
    public bool AllowAnonymous { get; init; } = true;

    /// <summary>Whether <see cref="ServerProcess.Port"/> is the plain default listener; false when <see cref="ExtraConfig"/> declares it.</summary>
    public bool DefaultListener { get; init; } = true;

    /// <summary>Messages queued per client beyond the in-flight window before Mosquitto drops (QoS 1/2).</summary>
    public int MaxQueuedMessages { get; init; } = 100_000;

    /// <summary>In-flight QoS 1/2 messages per client.</summary>
    public int MaxInflightMessages { get; init; } = 256;

    /// <summary>Keep retained messages and sessions across restarts (in <see cref="ServerProcess.Directory"/>).</summary>
    public bool Persistence { get; init; }

    /// <summary>Further configuration lines, appended as they are.</summary>
    public IReadOnlyList<string> ExtraConfig { get; init; } = [];

    /// <summary>The broker's configuration file.</summary>
    public string ConfigPath => Path.Combine(Directory, "mosquitto.conf");

    /// <summary>The broker's log file.</summary>
    public string LogPath => Path.Combine(Directory, "mosquitto.log");

    /// <inheritdoc />
    protected override string? LogFile => LogPath;

    private static string? Executable => FindExecutable("mosquitto");

    /// <summary>Creates and starts a broker.</summary>
    public static async Task<MosquittoServer> StartNewAsync(Func<int, MosquittoServer>? create = null, CancellationToken cancellationToken = default)
    {
        var server = create is null ? new MosquittoServer() : create(FreePort.Next());
        try
        {
            await server.StartAsync(cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <inheritdoc />
    protected override Task PrepareAsync(CancellationToken cancellationToken)
    {
        var conf = new StringBuilder()
            .AppendLine("# written by the test fixture")
            // As root, Mosquitto drops to the 'mosquitto' user, which could not read the test's key files.
            .AppendLine(Environment.UserName == "root" ? "user root" : "# not root: no user switch")
            .AppendLine("per_listener_settings false")
            .AppendLine($"persistence {(Persistence ? "true" : "false")}")
            .AppendLine($"persistence_location {Directory}/")
            .AppendLine($"log_dest file {LogPath}")
            .AppendLine("log_type error")
            .AppendLine("log_type warning")
            .AppendLine("log_type notice")
            .AppendLine("log_type information")
            .AppendLine("connection_messages true")
            .AppendLine("log_timestamp true")
            .AppendLine($"max_queued_messages {MaxQueuedMessages}")
            .AppendLine($"max_inflight_messages {MaxInflightMessages}")
            .AppendLine($"allow_anonymous {(AllowAnonymous ? "true" : "false")}");
        if (DefaultListener)
        {
            conf.AppendLine($"listener {Port} {Host}");
        }

        foreach (var line in ExtraConfig)
        {
            conf.AppendLine(line.Replace("{port}", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        }

        File.WriteAllText(ConfigPath, conf.ToString());
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    protected override ProcessStartInfo CreateStartInfo()
    {
        var exe = Executable ?? throw new InvalidOperationException("mosquitto is not installed (./test.sh installs it: NEED[mosquitto]=mosquitto)");
        var psi = new ProcessStartInfo(exe);
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(ConfigPath);
        return psi;
    }
}
