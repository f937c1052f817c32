using System.Globalization;
using System.Text;

namespace WarehouseHybrid.Contracts.Sparkplug;

/// <summary>Persists the last bdSeq an edge node registered in its MQTT Will, so it survives restarts.</summary>
public interface IBdSeqStore
{
    /// <summary>The last bdSeq saved, or false when there is none (first start, or an unreadable store).</summary>
    bool TryLoad(out byte bdSeq);

    /// <summary>Saves the bdSeq about to be used; durable when it returns.</summary>
    void Save(byte bdSeq);
}

/// <summary>An in-memory <see cref="IBdSeqStore"/> (tests, and nodes that accept a reset on restart).</summary>
public sealed class InMemoryBdSeqStore : IBdSeqStore
{
    private byte? _value;

    /// <inheritdoc />
    public bool TryLoad(out byte bdSeq)
    {
        bdSeq = _value ?? 0;
        return _value.HasValue;
    }

    /// <inheritdoc />
    public void Save(byte bdSeq) => _value = bdSeq;
}

/// <summary>
/// A one-line text file holding the bdSeq (0-255). Written to a temporary file, flushed to disk, then renamed over
/// the old one, so a crash leaves either the old or the new value. An unreadable file counts as absent and is
/// reported through <see cref="LastLoadError"/>.
/// </summary>
public sealed class FileBdSeqStore(string path) : IBdSeqStore
{
    /// <summary>Why the last <see cref="TryLoad"/> found no value although the file existed, or null.</summary>
    public string? LastLoadError { get; private set; }

    /// <inheritdoc />
    public bool TryLoad(out byte bdSeq)
    {
        bdSeq = 0;
        LastLoadError = null;
        if (!File.Exists(path))
        {
            return false;
        }

        var text = File.ReadAllText(path).Trim();
        if (!byte.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out bdSeq))
        {
            LastLoadError = $"bdSeq file '{path}' holds '{(text.Length > 20 ? text[..20] + "..." : text)}', not a number 0-255";
            return false;
        }

        return true;
    }

    /// <inheritdoc />
    public void Save(byte bdSeq)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir))
        {
            Directory.CreateDirectory(dir);
        }

        var tmp = path + ".tmp";
        using (var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(Encoding.ASCII.GetBytes(bdSeq.ToString(CultureInfo.InvariantCulture) + "\n"));
            stream.Flush(flushToDisk: true);
        }

        File.Move(tmp, path, overwrite: true);
    }
}
