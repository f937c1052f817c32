using WarehouseHybrid.Edge.Hosting;

namespace WarehouseHybrid.Edge.Tests.Hosting;

public sealed class DaemonOptionsTests
{
    [Fact]
    public void Defaults_are_valid() => Assert.Empty(new DaemonOptions().Validate());

    [Theory]
    [InlineData(nameof(DaemonOptions.SerialBaudRate))]
    [InlineData(nameof(DaemonOptions.SerialWriteTimeout))]
    [InlineData(nameof(DaemonOptions.HealthCheckInterval))]
    [InlineData(nameof(DaemonOptions.HealthFile))]
    public void Each_bad_value_is_reported_naming_the_option(string option)
    {
        var o = new DaemonOptions();
        switch (option)
        {
            case nameof(DaemonOptions.SerialBaudRate): o.SerialBaudRate = 12345; break;
            case nameof(DaemonOptions.SerialWriteTimeout): o.SerialWriteTimeout = TimeSpan.Zero; break;
            case nameof(DaemonOptions.HealthCheckInterval): o.HealthCheckInterval = TimeSpan.FromHours(1); break;
            default: o.HealthFile = "relative/health.json"; break;
        }

        var error = Assert.Single(o.Validate());
        Assert.StartsWith($"Daemon:{option}:", error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_health_file_defaults_to_the_systemd_state_directory()
    {
        var o = new DaemonOptions();
        Assert.Equal("/var/lib/warehouse-edge/health.json", o.ResolveHealthFile(k => k == "STATE_DIRECTORY" ? "/var/lib/warehouse-edge:/var/lib/other" : null));
        Assert.Null(o.ResolveHealthFile(_ => null));
        o.HealthFile = "/run/x.json";
        Assert.Equal("/run/x.json", o.ResolveHealthFile(_ => "/var/lib/y"));
    }
}
