using System.Runtime.InteropServices;

namespace WarehouseHybrid.Edge.Serial;

/// <summary>
/// The few libc calls a raw tty needs (Linux x64/arm64 glibc; the constants are the asm-generic values both share).
/// The termios struct is handled as an opaque buffer: cfmakeraw and cfsetspeed fill it, only VMIN/VTIME are poked.
/// </summary>
internal static class TtyNative
{
    public const int ORdWr = 0x2;
    public const int ONoCtty = 0x100;
    public const int ONonBlock = 0x800;
    public const int OCloExec = 0x80000;
    public const int TcsaNow = 0;
    public const int TciOFlush = 2;
    public const short PollIn = 0x1;
    public const short PollOut = 0x4;
    public const short PollErr = 0x8;
    public const short PollHup = 0x10;
    public const short PollNval = 0x20;
    public const int EIntr = 4;
    public const int EAgain = 11;

    /// <summary>sizeof(struct termios) is 60 on Linux; a larger buffer is harmless.</summary>
    public const int TermiosSize = 128;

    /// <summary>Offset of c_cc in struct termios (4 flag words, then c_line).</summary>
    private const int CcOffset = 17;
    private const int VTime = 5;
    private const int VMin = 6;

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

#pragma warning disable SYSLIB1054 // DllImport keeps this assembly free of unsafe code (LibraryImport would need AllowUnsafeBlocks).
    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    public static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    public static extern int Close(int fd);

    [DllImport("libc", EntryPoint = "read", SetLastError = true)]
    public static extern nint Read(int fd, ref byte buffer, nint count);

    [DllImport("libc", EntryPoint = "write", SetLastError = true)]
    public static extern nint Write(int fd, ref byte buffer, nint count);

    [DllImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static extern int Poll(ref PollFd fds, nuint count, int timeoutMs);

    [DllImport("libc", EntryPoint = "tcgetattr", SetLastError = true)]
    private static extern int TcGetAttr(int fd, byte[] termios);

    [DllImport("libc", EntryPoint = "tcsetattr", SetLastError = true)]
    private static extern int TcSetAttr(int fd, int action, byte[] termios);

    [DllImport("libc", EntryPoint = "tcflush", SetLastError = true)]
    private static extern int TcFlush(int fd, int queue);

    [DllImport("libc", EntryPoint = "cfmakeraw")]
    private static extern void CfMakeRaw(byte[] termios);

    [DllImport("libc", EntryPoint = "cfsetspeed", SetLastError = true)]
    private static extern int CfSetSpeed(byte[] termios, uint speed);
#pragma warning restore SYSLIB1054

    /// <summary>The termios speed constant of a baud rate; throws naming the rate when the kernel has none.</summary>
    public static uint BaudConstant(int baud) => baud switch
    {
        9600 => 0xD,
        19200 => 0xE,
        38400 => 0xF,
        57600 => 0x1001,
        115200 => 0x1002,
        230400 => 0x1003,
        460800 => 0x1004,
        500000 => 0x1005,
        576000 => 0x1006,
        921600 => 0x1007,
        1000000 => 0x1008,
        2000000 => 0x100B,
        _ => throw new ArgumentOutOfRangeException(nameof(baud), baud, "not a standard termios baud rate (9600 ... 2000000)"),
    };

    /// <summary>Raw mode (no echo, no line discipline, 8N1), the given speed, VMIN=1/VTIME=0, and stale input flushed.</summary>
    public static void MakeRaw(int fd, int baud, string path)
    {
        var termios = new byte[TermiosSize];
        if (TcGetAttr(fd, termios) != 0)
        {
            throw Error("tcgetattr", path);
        }

        CfMakeRaw(termios);
        if (CfSetSpeed(termios, BaudConstant(baud)) != 0)
        {
            throw Error($"cfsetspeed({baud})", path);
        }

        termios[CcOffset + VMin] = 1;
        termios[CcOffset + VTime] = 0;
        if (TcSetAttr(fd, TcsaNow, termios) != 0)
        {
            throw Error("tcsetattr", path);
        }

        // Bytes queued while nobody listened belong to an old session.
        _ = TcFlush(fd, TciOFlush);
    }

    /// <summary>An IOException naming the call, the device and the OS error.</summary>
    public static IOException Error(string call, string path)
    {
        var errno = Marshal.GetLastPInvokeError();
        return new IOException($"{call} on {path} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})", errno);
    }
}
