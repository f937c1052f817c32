using System.Runtime.InteropServices;

namespace WarehouseHybrid.Hil.Fleet;

/// <summary>
/// CPU time consumed by the calling thread or by the whole process (Linux <c>clock_gettime</c>), for the fleet's
/// critical-path accounting: on a shared machine wall time mostly measures the other tenants, and process CPU time
/// also counts threads spinning while they wait for each other. Zero where the clocks are not available.
/// </summary>
internal static class CpuClock
{
    private const int ProcessCpuTimeId = 2; // CLOCK_PROCESS_CPUTIME_ID
    private const int ThreadCpuTimeId = 3; // CLOCK_THREAD_CPUTIME_ID

    /// <summary>Whether the clocks work here (Linux).</summary>
    public static bool Available { get; } = OperatingSystem.IsLinux() && Probe();

    /// <summary>CPU time of the calling thread, in nanoseconds.</summary>
    public static long ThreadNanoseconds() => Read(ThreadCpuTimeId);

    /// <summary>CPU time of the process (all threads), in nanoseconds.</summary>
    public static long ProcessNanoseconds() => Read(ProcessCpuTimeId);

    private static long Read(int clock)
    {
        if (!Available || ClockGetTime(clock, out var t) != 0)
        {
            return 0;
        }

        return (t.Seconds * 1_000_000_000L) + t.Nanoseconds;
    }

    private static bool Probe()
    {
        try
        {
            return ClockGetTime(ThreadCpuTimeId, out _) == 0;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

#pragma warning disable SYSLIB1054 // DllImport keeps this assembly free of unsafe code (LibraryImport would need AllowUnsafeBlocks).
    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clockId, out TimeSpec time);
#pragma warning restore SYSLIB1054
}
