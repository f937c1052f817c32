using WarehouseHybrid.Edge.Outbox;

namespace WarehouseHybrid.Edge.Tests.Outbox;

/// <summary>The real file system with a byte budget (a full disk: ENOSPC after a partial write) and counted or failing fsyncs.</summary>
internal sealed class FaultyFileSystem : IOutboxFileSystem
{
    private readonly PhysicalOutboxFileSystem _inner = PhysicalOutboxFileSystem.Instance;

    /// <summary>Bytes the disk still takes through appends; null for unlimited.</summary>
    public long? FreeBytes { get; set; }

    public int Syncs;

    public bool FailSync { get; set; }

    public void CreateDirectory(string path) => _inner.CreateDirectory(path);

    public IReadOnlyList<string> ListFiles(string directory, string pattern) => _inner.ListFiles(directory, pattern);

    public bool Exists(string path) => _inner.Exists(path);

    public IOutboxAppendFile OpenAppend(string path) => new File(this, _inner.OpenAppend(path));

    public byte[] ReadAllBytes(string path) => _inner.ReadAllBytes(path);

    public void WriteAtomic(string path, ReadOnlySpan<byte> bytes, bool sync) => _inner.WriteAtomic(path, bytes, sync);

    public void Truncate(string path, long length) => _inner.Truncate(path, length);

    public void Move(string from, string to, bool overwrite) => _inner.Move(from, to, overwrite);

    public void Delete(string path) => _inner.Delete(path);

    private sealed class File(FaultyFileSystem owner, IOutboxAppendFile inner) : IOutboxAppendFile
    {
        public long Length => inner.Length;

        public void Write(ReadOnlySpan<byte> bytes)
        {
            if (owner.FreeBytes is { } free && bytes.Length > free)
            {
                inner.Write(bytes[..(int)free]); // the part that fit, as a real full disk leaves it
                owner.FreeBytes = 0;
                throw new IOException("No space left on device", 28);
            }

            owner.FreeBytes -= bytes.Length;
            inner.Write(bytes);
        }

        public void Sync()
        {
            if (owner.FailSync)
            {
                throw new IOException("Input/output error", 5);
            }

            Interlocked.Increment(ref owner.Syncs);
            inner.Sync();
        }

        public void Truncate(long length) => inner.Truncate(length);

        public void Dispose() => inner.Dispose();
    }
}
