namespace WarehouseHybrid.Edge.Outbox;

/// <summary>A segment file open for appending.</summary>
public interface IOutboxAppendFile : IDisposable
{
    /// <summary>Current length in bytes.</summary>
    long Length { get; }

    /// <summary>Appends bytes (one write system call; no user-space buffering).</summary>
    void Write(ReadOnlySpan<byte> bytes);

    /// <summary>Makes everything written durable (fsync).</summary>
    void Sync();

    /// <summary>Cuts the file back to <paramref name="length"/> (after a failed write left a partial record).</summary>
    void Truncate(long length);
}

/// <summary>The file operations the outbox uses, injectable so tests can simulate a full disk or failing fsync.</summary>
public interface IOutboxFileSystem
{
    /// <summary>Creates a directory (and parents) if missing.</summary>
    void CreateDirectory(string path);

    /// <summary>Files of a directory matching a pattern such as <c>*.seg</c>.</summary>
    IReadOnlyList<string> ListFiles(string directory, string pattern);

    /// <summary>Whether a file exists.</summary>
    bool Exists(string path);

    /// <summary>Opens (creating if missing) a file for appending at its end.</summary>
    IOutboxAppendFile OpenAppend(string path);

    /// <summary>The whole content of a file.</summary>
    byte[] ReadAllBytes(string path);

    /// <summary>Writes a file atomically: a temporary file, fsync, rename over the target.</summary>
    void WriteAtomic(string path, ReadOnlySpan<byte> bytes, bool sync);

    /// <summary>Cuts a file to a length and fsyncs it.</summary>
    void Truncate(string path, long length);

    /// <summary>Renames a file.</summary>
    void Move(string from, string to, bool overwrite);

    /// <summary>Deletes a file.</summary>
    void Delete(string path);
}

/// <summary>The real file system.</summary>
public sealed class PhysicalOutboxFileSystem : IOutboxFileSystem
{
    /// <summary>The shared instance.</summary>
    public static PhysicalOutboxFileSystem Instance { get; } = new();

    /// <inheritdoc />
    public void CreateDirectory(string path) => System.IO.Directory.CreateDirectory(path);

    /// <inheritdoc />
    public IReadOnlyList<string> ListFiles(string directory, string pattern) => System.IO.Directory.GetFiles(directory, pattern);

    /// <inheritdoc />
    public bool Exists(string path) => File.Exists(path);

    /// <inheritdoc />
    public IOutboxAppendFile OpenAppend(string path) => new AppendFile(path);

    /// <inheritdoc />
    public byte[] ReadAllBytes(string path)
    {
        // The writer keeps the active segment open: share read and write.
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <inheritdoc />
    public void WriteAtomic(string path, ReadOnlySpan<byte> bytes, bool sync)
    {
        var tmp = path + ".tmp";
        using (var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0))
        {
            stream.Write(bytes);
            if (sync)
            {
                stream.Flush(flushToDisk: true);
            }
        }

        File.Move(tmp, path, overwrite: true);
    }

    /// <inheritdoc />
    public void Truncate(string path, long length)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0);
        stream.SetLength(length);
        stream.Flush(flushToDisk: true);
    }

    /// <inheritdoc />
    public void Move(string from, string to, bool overwrite) => File.Move(from, to, overwrite);

    /// <inheritdoc />
    public void Delete(string path) => File.Delete(path);

    private sealed class AppendFile : IOutboxAppendFile
    {
        private readonly FileStream _stream;

        public AppendFile(string path)
        {
            _stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0);
            _stream.Seek(0, SeekOrigin.End);
        }

        public long Length => _stream.Length;

        public void Write(ReadOnlySpan<byte> bytes) => _stream.Write(bytes);

        public void Sync() => _stream.Flush(flushToDisk: true);

        public void Truncate(long length)
        {
            _stream.SetLength(length);
            _stream.Seek(0, SeekOrigin.End);
        }

        public void Dispose() => _stream.Dispose();
    }
}
