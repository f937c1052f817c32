using WarehouseHybrid.Contracts.Serial;
using WarehouseHybrid.Edge.Serial;

namespace WarehouseHybrid.Hil.Tests.Board;

/// <summary>What a test plays on the daemon end: encodes commands, decodes everything buffered from the board.</summary>
internal sealed class DaemonSide(InMemorySerialStream daemonEnd)
{
    private readonly SerialFrameDecoder _decoder = new();
    private readonly byte[] _encode = new byte[SerialFrameEncoder.MaxEncodedFrameLength];
    private ushort _sequence;

    public SerialFrameDecoder Decoder => _decoder;

    public void Send(MotorCommand command) =>
        daemonEnd.Write(_encode.AsSpan(0, SerialFrameEncoder.Encode(command, _sequence++, _encode)));

    public void Send(Heartbeat beat) =>
        daemonEnd.Write(_encode.AsSpan(0, SerialFrameEncoder.Encode(beat, _sequence++, _encode)));

    /// <summary>Decodes whatever the board has sent so far (never blocks).</summary>
    public List<DecodedFrame> Drain()
    {
        var frames = new List<DecodedFrame>();
        var pending = daemonEnd.BytesToRead;
        if (pending == 0)
        {
            return frames;
        }

        var buffer = new byte[pending];
        daemonEnd.ReadExactly(buffer);
        ReadOnlySpan<byte> input = buffer;
        while (_decoder.TryDecode(ref input, out var frame))
        {
            frames.Add(frame);
        }

        return frames;
    }
}
