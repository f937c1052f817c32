using System.Diagnostics;

namespace WarehouseHybrid.Tests.Common.Servers;

/// <summary>
/// A real PostgreSQL 15 cluster made by initdb in a temporary directory and served on a loopback port (unix
/// socket in the same directory), trust authentication for the superuser <see cref="User"/>. PostgreSQL refuses
/// to run as root, so as root the cluster is created and run as the 'postgres' system user (runuser).
/// Ready when pg_isready says so.
/// </summary>
internal sealed class PostgresServer : ServerProcess
{
    private static readonly string[] BinDirectories = ["/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin"];
    private bool _initialised;

    /// <summary>Creates (does not start) a server on a free port, or on <paramref name="port"/>.</summary>
    public PostgresServer(int? port = null)
        : base("postgres", port)
    {
    }

    /// <summary>Whether PostgreSQL's server binaries are installed (./test.sh installs them).</summary>
    public static bool Available => FindExecutable("initdb", BinDirectories) is not null && FindExecutable("postgres", BinDirectories) is not null;

    /// <summary>The superuser of the test cluster.</summary>
    public string User => "postgres";

    /// <summary>The data directory.</summary>
    public string DataDirectory => Path.Combine(Directory, "data");

    /// <summary>An Npgsql connection string for <paramref name="database"/>.</summary>
    public string ConnectionString(string database = "postgres") =>
        $"Host={Host};Port={Port};Username={User};Database={database};Pooling=true;Timeout=15";

    private static bool AsRoot => Environment.UserName == "root";

    /// <summary>Creates and starts a server.</summary>
    public static async Task<PostgresServer> StartNewAsync(CancellationToken cancellationToken = default)
    {
        var server = new PostgresServer();
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

    /// <summary>Runs SQL with psql as the superuser (database set-up in fixtures); returns psql's output.</summary>
    public Task<string> RunSqlAsync(string sql, string database = "postgres", CancellationToken cancellationToken = default)
    {
        var psi = Command("psql", "-h", Host, "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", User,
            "-d", database, "-v", "ON_ERROR_STOP=1", "-q", "-t", "-A", "-c", sql);
        return RunToCompletionAsync(psi, cancellationToken);
    }

    /// <inheritdoc />
    protected override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        if (_initialised)
        {
            return;
        }

        if (AsRoot && !OperatingSystem.IsWindows())
        {
            // The postgres user must be able to reach and own its directory.
            File.SetUnixFileMode(Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            await RunToCompletionAsync(new ProcessStartInfo("chown", ["postgres:postgres", Directory]), cancellationToken);
        }

        await RunToCompletionAsync(
            Command("initdb", "-D", DataDirectory, "-U", User, "--auth=trust", "--encoding=UTF8", "--no-instructions", "--no-sync"),
            cancellationToken);
        _initialised = true;
    }

    /// <inheritdoc />
    protected override ProcessStartInfo CreateStartInfo() =>
        Command("postgres", "-D", DataDirectory, "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-c", $"listen_addresses={Host}", "-c", $"unix_socket_directories={Directory}", "-c", "fsync=off",
            "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200");

    /// <inheritdoc />
    protected override async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        if (!await CanConnectAsync(cancellationToken))
        {
            return false;
        }

        try
        {
            await RunToCompletionAsync(Command("pg_isready", "-h", Host, "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", User), cancellationToken);
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static ProcessStartInfo Command(string program, params string[] args)
    {
        var exe = FindExecutable(program, BinDirectories)
            ?? throw new InvalidOperationException($"PostgreSQL's {program} is not installed (./test.sh installs it: NEED[initdb]=postgresql)");
        ProcessStartInfo psi;
        if (AsRoot)
        {
            psi = new ProcessStartInfo("runuser");
            psi.ArgumentList.Add("-u");
            psi.ArgumentList.Add("postgres");
            psi.ArgumentList.Add("--");
            psi.ArgumentList.Add(exe);
        }
        else
        {
            psi = new ProcessStartInfo(exe);
        }

        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        return psi;
    }
}
