using WarehouseHybrid.Hil.Recording;
using WarehouseHybrid.Hil.Scenarios;
using WarehouseHybrid.Tests.Common;

namespace WarehouseHybrid.Hil.Tests.Recording;

/// <summary>A recorded run replayed into fresh edge runtimes on a virtual clock reproduces every motor command byte for byte.</summary>
public sealed class ReplayTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("wh-hil-replay-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private async Task<string> RecordAsync(string scenarioFile)
    {
        var file = Path.Combine(_dir, "run.rec");
        var scenario = ScenarioReader.Load(Path.Combine(RepoPaths.Root, "hil", "scenarios", scenarioFile));
        var report = await InProcessScenarioRunner.RunAsync(scenario, new ScenarioRunOptions { Short = true, Plots = false, RecordingFile = file, Duration = TimeSpan.FromSeconds(15) });
        Assert.Equal(0, report.Violations);
        return file;
    }

    [Fact]
    public async Task Replaying_a_recording_with_serial_noise_reproduces_every_motor_command_byte_for_byte()
    {
        // Noise makes the inputs irregular (rejected frames, resynchronisation), so agreement is not a coincidence.
        var file = await RecordAsync("serial-bit-flips.json");
        var result = await Replayer.ReplayAsync(file);
        Assert.True(result.Identical, result.ToString());
        Assert.Equal(8 * 15 * 50, result.CommandsCompared);
    }

    [Fact]
    public async Task A_changed_input_byte_is_detected_as_a_divergence()
    {
        var file = await RecordAsync("baseline.json");
        var (header, records) = RecordingFormat.Read(file);

        // Rewrite the recording with robot 0's range readings replaced in one sensor frame, mid-run: a nearer
        // obstacle makes its edge brake, and the replay must notice the changed decision.
        var tampered = Path.Combine(_dir, "tampered.rec");
        using (var output = File.Create(tampered))
        {
            RecordingFormat.WriteHeader(output, header);
            var changed = false;
            foreach (var r in records)
            {
                var payload = r.Payload.ToArray();
                if (!changed && r.Type == RecordType.SerialToDaemon && r.Robot == 0 && r.Time > TimeSpan.FromSeconds(5) && payload.Length >= 70)
                {
                    payload = Frames.WithAllRangesAt(payload, 300);
                    changed = true;
                }

                RecordingFormat.WriteRecord(output, r.Type, r.Robot, r.Time, payload);
            }

            Assert.True(changed);
        }

        var result = await Replayer.ReplayAsync(tampered);
        Assert.False(result.Identical);
        Assert.Contains("robot-000", result.FirstMismatch, StringComparison.Ordinal);
    }

    [Fact]
    public void A_truncated_or_foreign_file_is_refused_naming_the_byte_offset()
    {
        var junk = Path.Combine(_dir, "junk.rec");
        File.WriteAllBytes(junk, "not a recording"u8.ToArray());
        var ex = Assert.Throws<InvalidDataException>(() => RecordingFormat.Read(junk));
        Assert.Contains("no WHHILREC magic at byte 0", ex.Message, StringComparison.Ordinal);

        using (var s = File.Create(junk))
        {
            RecordingFormat.WriteHeader(s, new RecordingHeader());
            RecordingFormat.WriteRecord(s, RecordType.ControlTick, 0, TimeSpan.Zero, [1, 2, 3]);
            s.SetLength(s.Length - 2);
        }

        ex = Assert.Throws<InvalidDataException>(() => RecordingFormat.Read(junk));
        Assert.Matches("record at byte [0-9]+ claims 3 payload bytes; 1 remain", ex.Message);
    }
}

/// <summary>Builds a changed sensor frame by decoding, editing and re-encoding with the project's codec.</summary>
internal static class Frames
{
    public static byte[] WithAllRangesAt(byte[] chunk, ushort millimetres)
    {
        var decoder = new Contracts.Serial.SerialFrameDecoder();
        ReadOnlySpan<byte> input = chunk;
        var output = new List<byte>();
        ushort seq = 0;
        while (decoder.TryDecode(ref input, out var frame))
        {
            var buffer = new byte[Contracts.Serial.SerialFrameEncoder.MaxEncodedFrameLength];
            int n;
            if (frame.Type == Contracts.Serial.BoardMessageType.SensorFrame)
            {
                var sensor = frame.Sensor;
                for (var i = 0; i < 16; i++)
                {
                    sensor.Ranges[i] = millimetres;
                }

                n = Contracts.Serial.SerialFrameEncoder.Encode(sensor, seq++, buffer);
            }
            else if (frame.Type == Contracts.Serial.BoardMessageType.Heartbeat)
            {
                n = Contracts.Serial.SerialFrameEncoder.Encode(frame.Heartbeat, seq++, buffer);
            }
            else
            {
                continue;
            }

            output.AddRange(buffer.AsSpan(0, n));
        }

        return [.. output];
    }
}
