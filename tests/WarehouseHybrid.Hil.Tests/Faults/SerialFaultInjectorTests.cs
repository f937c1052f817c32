using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using WarehouseHybrid.Hil.Faults;

namespace WarehouseHybrid.Hil.Tests.Faults;

/// <summary>The serial line's damage, and its copy-free path while the line is clean.</summary>
public sealed class SerialFaultInjectorTests
{
    private static readonly byte[] Frame = [0x05, 0x01, 0x02, 0x03, 0x04, 0x00, 0x03, 0x10, 0x20, 0x00];

    [Fact]
    public void A_clean_line_hands_the_bytes_themselves_through_and_counts_them()
    {
        var line = new SerialFaultInjector(7);
        var scratch = new byte[64];
        var out1 = line.Transmit(Frame, scratch);
        Assert.True(Unsafe.AreSame(ref MemoryMarshal.GetReference(out1), ref MemoryMarshal.GetArrayDataReference(Frame)), "no copy on a clean line");
        Assert.Equal(Frame.Length, line.BytesIn);
        Assert.Equal(0, line.BytesDropped);
    }

    [Fact]
    public void A_cut_or_noisy_line_transmits_exactly_what_apply_would()
    {
        var noise = new SerialNoise { BitFlipRate = 0.2, DropRate = 0.1, DuplicateRate = 0.1 };
        var applied = new SerialFaultInjector(11) { Noise = noise };
        var transmitted = new SerialFaultInjector(11) { Noise = noise };
        var a = new byte[64];
        var t = new byte[64];
        for (var round = 0; round < 50; round++)
        {
            var n = applied.Apply(Frame, a);
            var sent = transmitted.Transmit(Frame, t);
            Assert.Equal(a.AsSpan(0, n).ToArray(), sent.ToArray());
        }

        Assert.Equal(applied.BytesCorrupted, transmitted.BytesCorrupted);
        Assert.True(transmitted.BytesCorrupted > 0 && transmitted.BytesDropped > 0 && transmitted.BytesDuplicated > 0);

        transmitted.Cut = true;
        Assert.True(transmitted.Transmit(Frame, t).IsEmpty);
        Assert.Equal(applied.BytesDropped + Frame.Length, transmitted.BytesDropped);
    }
}
