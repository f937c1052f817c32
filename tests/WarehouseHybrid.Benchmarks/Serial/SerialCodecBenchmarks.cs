using BenchmarkDotNet.Attributes;
using WarehouseHybrid.Contracts.Serial;

namespace WarehouseHybrid.Benchmarks.Serial;

/// <summary>
/// Throughput of the serial frame codec on sensor frames (70 bytes on the wire each).
/// Each operation handles <see cref="FramesPerOperation"/> frames, so Mean is nanoseconds per frame;
/// MB/s = 70 / Mean(ns) * 1000. Allocated should read 0 B.
/// </summary>
[MemoryDiagnoser]
public class SerialCodecBenchmarks
{
    /// <summary>Frames handled per benchmark operation.</summary>
    public const int FramesPerOperation = 1000;

    private readonly byte[] _frameBuffer = new byte[SerialFrameEncoder.MaxEncodedFrameLength];
    private SensorFrame[] _frames = [];
    private byte[] _stream = [];
    private SerialFrameDecoder _decoder = new();

    /// <summary>Builds varied sensor frames and their encoded stream.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1234);
        _frames = new SensorFrame[FramesPerOperation];
        var stream = new List<byte>();
        for (var i = 0; i < FramesPerOperation; i++)
        {
            var m = new SensorFrame
            {
                BoardTimeMs = (uint)(i * 20),
                LeftTicks = random.Next(),
                RightTicks = -random.Next(),
                LeftWheelMps = (float)random.NextDouble(),
                RightWheelMps = (float)random.NextDouble(),
                HeadingRad = (float)(random.NextDouble() * Math.Tau),
                BatteryMillivolts = (ushort)random.Next(22_000, 25_000),
                BatteryPercent = (byte)random.Next(0, 101),
                Flags = SensorFlags.None,
                Status = BoardStatus.Ok,
            };
            for (var b = 0; b < RangeScanLayout.BeamCount; b++)
            {
                m.Ranges[b] = (ushort)random.Next(100, 8000);
            }

            _frames[i] = m;
            var n = SerialFrameEncoder.Encode(m, (ushort)i, _frameBuffer);
            stream.AddRange(_frameBuffer.AsSpan(0, n).ToArray());
        }

        _stream = stream.ToArray();
        _decoder = new SerialFrameDecoder();
    }

    /// <summary>Bytes on the wire per operation (for MB/s).</summary>
    public int StreamBytes => _stream.Length;

    /// <summary>Encodes sensor frames into one reused buffer.</summary>
    [Benchmark(OperationsPerInvoke = FramesPerOperation)]
    public int EncodeSensorFrame()
    {
        var total = 0;
        var frames = _frames;
        for (var i = 0; i < frames.Length; i++)
        {
            total += SerialFrameEncoder.Encode(frames[i], (ushort)i, _frameBuffer);
        }

        return total;
    }

    /// <summary>Decodes a stream of sensor frames handed over in one span.</summary>
    [Benchmark(OperationsPerInvoke = FramesPerOperation)]
    public long DecodeSensorFrame()
    {
        ReadOnlySpan<byte> input = _stream;
        long sum = 0;
        while (_decoder.TryDecode(ref input, out var frame))
        {
            sum += frame.Sensor.BoardTimeMs;
        }

        return sum;
    }

    /// <summary>Decodes the same stream in 64-byte reads, the way a serial port delivers it.</summary>
    [Benchmark(OperationsPerInvoke = FramesPerOperation)]
    public long DecodeSensorFrameIn64ByteReads()
    {
        long sum = 0;
        var stream = _stream;
        for (var offset = 0; offset < stream.Length; offset += 64)
        {
            ReadOnlySpan<byte> input = stream.AsSpan(offset, Math.Min(64, stream.Length - offset));
            while (_decoder.TryDecode(ref input, out var frame))
            {
                sum += frame.Sensor.BoardTimeMs;
            }
        }

        return sum;
    }
}
