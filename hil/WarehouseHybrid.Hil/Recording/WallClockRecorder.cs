using System.Diagnostics;

namespace WarehouseHybrid.Hil.Recording;

/// <summary>
/// Records a real-time (daemon) run in <see cref="RecordingFormat"/> with wall-clock timestamps since the start:
/// each board line's traffic (what the daemon received, what it wrote) and every MQTT message of the site's topic
/// tree as the rig's observer saw it at the broker. Thread-safe (one lock around the file). Such a recording has no
/// control-tick records: a real daemon ticks on its own timer, so it documents a run rather than replaying one.
/// </summary>
public sealed class WallClockRecorder : IAsyncDisposable
{
    private readonly FileStream _file;
    private readonly Lock _gate = new();
    private readonly long _start = Stopwatch.GetTimestamp();

    /// <summary>Creates the file and writes the header.</summary>
    public WallClockRecorder(string path, RecordingHeader header)
    {
        ArgumentNullException.ThrowIfNull(header);
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } dir)
        {
            Directory.CreateDirectory(dir);
        }

        _file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
        RecordingFormat.WriteHeader(_file, header with { Clock = "daemons" });
    }

    /// <summary>Records written.</summary>
    public long Records { get; private set; }

    /// <summary>Serial bytes of one robot's line.</summary>
    public void Serial(int robot, bool toDaemon, ReadOnlySpan<byte> bytes) =>
        Write(toDaemon ? RecordType.SerialToDaemon : RecordType.SerialToBoard, robot, bytes);

    /// <summary>An MQTT message seen at the broker.</summary>
    public void Mqtt(int robot, string topic, byte[] payload) => Write(RecordType.Mqtt, robot, RecordingFormat.MqttPayload(topic, payload));

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _file.Flush();
        }

        await _file.DisposeAsync().ConfigureAwait(false);
    }

    private void Write(RecordType type, int robot, ReadOnlySpan<byte> payload)
    {
        var time = Stopwatch.GetElapsedTime(_start);
        lock (_gate)
        {
            if (!_file.CanWrite)
            {
                return;
            }

            RecordingFormat.WriteRecord(_file, type, robot, time, payload);
            Records++;
        }
    }
}
