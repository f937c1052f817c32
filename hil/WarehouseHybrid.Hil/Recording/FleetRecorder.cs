using Google.Protobuf;
using WarehouseHybrid.Contracts.Fleet;
using WarehouseHybrid.Contracts.Topics;
using WarehouseHybrid.Hil.Fleet;

namespace WarehouseHybrid.Hil.Recording;

/// <summary>
/// Records a lock-step fleet: every serial transfer, control tick and plan message of every robot, with virtual
/// timestamps, in <see cref="RecordingFormat"/>. Workers write into per-robot buffers; <see cref="EndTick"/> appends
/// them to the file in robot order, so each robot's records keep the exact order its edge saw them in.
/// </summary>
public sealed class FleetRecorder : IFleetTap, IAsyncDisposable
{
    private readonly FileStream _file;
    private readonly MemoryStream[] _buffers;
    private readonly string _site;
    private readonly string[] _ids;

    /// <summary>Creates the file and writes the header (robots and their edge options).</summary>
    public FleetRecorder(string path, LockstepFleet fleet, string scenario)
    {
        ArgumentNullException.ThrowIfNull(fleet);
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } dir)
        {
            Directory.CreateDirectory(dir);
        }

        _file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
        _buffers = [.. Enumerable.Range(0, fleet.Count).Select(_ => new MemoryStream())];
        _ids = [.. Enumerable.Range(0, fleet.Count).Select(fleet.IdOf)];
        _site = fleet.EdgeOptionsOf(0).SiteId;
        RecordingFormat.WriteHeader(_file, new RecordingHeader
        {
            Scenario = scenario,
            Clock = "lockstep",
            Robots = [.. Enumerable.Range(0, fleet.Count).Select(i => new RecordedRobot(i, fleet.IdOf(i), fleet.EdgeOptionsOf(i)))],
        });
    }

    /// <summary>Records written.</summary>
    public long Records { get; private set; }

    /// <inheritdoc />
    public void Transfer(int robot, TimeSpan time, bool toDaemon, ReadOnlySpan<byte> bytes) =>
        RecordingFormat.WriteRecord(_buffers[robot], toDaemon ? RecordType.SerialToDaemon : RecordType.SerialToBoard, robot, time, bytes);

    /// <inheritdoc />
    public void Tick(int robot, TimeSpan time) => RecordingFormat.WriteRecord(_buffers[robot], RecordType.ControlTick, robot, time, []);

    /// <inheritdoc />
    public void Message(int robot, TimeSpan time, IMessage message)
    {
        var topic = message switch
        {
            PlanSegment => FleetTopics.Plan(_site, _ids[robot]),
            GrantUpdate => FleetTopics.Grant(_site, _ids[robot]),
            _ => FleetTopics.Task(_site, _ids[robot]),
        };
        RecordingFormat.WriteRecord(_buffers[robot], RecordType.Mqtt, robot, time, RecordingFormat.MqttPayload(topic, message.ToByteArray()));
    }

    /// <summary>Appends the tick's per-robot buffers to the file.</summary>
    public void EndTick()
    {
        foreach (var b in _buffers)
        {
            if (b.Length > 0)
            {
                b.WriteTo(_file);
                b.SetLength(0);
                Records++;
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        EndTick();
        await _file.FlushAsync().ConfigureAwait(false);
        await _file.DisposeAsync().ConfigureAwait(false);
    }
}
