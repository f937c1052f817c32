using System.Globalization;

namespace WarehouseHybrid.Edge.Audit;

/// <summary>Where the chain breaks: the first bad record.</summary>
/// <param name="File">The audit file's name.</param>
/// <param name="Line">1-based line number in it.</param>
/// <param name="ByteOffset">Offset of the line's first byte in the file.</param>
/// <param name="Seq">The record's sequence number when it could be read.</param>
/// <param name="Message">What is wrong.</param>
public sealed record AuditProblem(string File, int Line, long ByteOffset, long? Seq, string Message)
{
    /// <inheritdoc />
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{File} line {Line} (byte {ByteOffset}{(Seq is { } s ? $", seq {s}" : string.Empty)}): {Message}");
}

/// <summary>The outcome of <see cref="AuditVerifier.Verify"/>.</summary>
/// <param name="Files">Audit files read.</param>
/// <param name="Records">Records that verified.</param>
/// <param name="FirstSeq">Sequence number of the oldest surviving record (-1 when none).</param>
/// <param name="HeadSeq">Sequence number of the newest record (-1 when none).</param>
/// <param name="HeadHash">Its hash.</param>
/// <param name="Problem">The first bad record; null when the chain verifies.</param>
/// <param name="Warnings">Things that are not tampering (a crash-torn tail, files rotated out under the disk bound).</param>
public sealed record AuditVerification(int Files, long Records, long FirstSeq, long HeadSeq, string HeadHash, AuditProblem? Problem, IReadOnlyList<string> Warnings)
{
    /// <summary>Whether every record verified and links to the one before.</summary>
    public bool Ok => Problem is null;
}

/// <summary>
/// Checks an audit directory (<see cref="AuditLog"/>): every record's hash over its own bytes, its <c>prev</c> against
/// the record before (across files, in file-number order), sequence numbers without gaps, and that a chain which no
/// longer starts at seq 0 is accounted for by an <see cref="AuditKinds.Pruned"/> record naming the deleted file's last
/// record. Stops at the first bad record and names it (file, line, byte offset, seq, what). A crash-torn tail (an
/// incomplete last line) is a warning; a complete record whose newline was altered is not. An optional anchor (a
/// seq and hash published elsewhere, e.g. sent to the cloud) proves that the log was not truncated before it.
/// </summary>
public static class AuditVerifier
{
    /// <summary>Verifies <paramref name="directory"/>; <paramref name="anchor"/> is a (seq, hash) the chain must contain.</summary>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    public static AuditVerification Verify(string directory, (long Seq, string Hash)? anchor = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"audit directory '{directory}' does not exist");
        }

        var files = AuditRecordCodec.Files(directory);
        var warnings = new List<string>();
        var pruned = new List<AuditPruned>();
        AuditRecord? previous = null;
        AuditRecord? first = null;
        (string File, int Line, long Offset)? firstAt = null;
        long records = 0;
        var anchorSeen = false;
        AuditProblem? problem = null;

        foreach (var (_, path) in files)
        {
            var name = Path.GetFileName(path);
            byte[] bytes;
            try
            {
                bytes = File.ReadAllBytes(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                problem = new AuditProblem(name, 0, 0, null, $"cannot be read: {ex.Message}");
                break;
            }

            var offset = 0;
            var line = 0;
            while (offset < bytes.Length)
            {
                line++;
                var newline = Array.IndexOf(bytes, (byte)'\n', offset);
                if (newline < 0)
                {
                    var tail = bytes.AsSpan(offset);
                    if (AuditRecordCodec.ContainsRecordEnd(tail))
                    {
                        problem = new AuditProblem(name, line, offset, null, "a complete record without its line terminator (or with bytes after it): the file was altered");
                    }
                    else
                    {
                        warnings.Add(string.Create(CultureInfo.InvariantCulture, $"{name} line {line} (byte {offset}): {tail.Length} bytes of an incomplete record (crash during a write)"));
                    }

                    break;
                }

                var span = bytes.AsSpan(offset, newline - offset);
                if (!AuditRecordCodec.TryParse(span, out var record, out var error))
                {
                    problem = new AuditProblem(name, line, offset, null, error);
                    break;
                }

                var r = record!;
                if (previous is null)
                {
                    first = r;
                    firstAt = (name, line, offset);
                    if (r.Seq == 0 && r.Prev != AuditRecordCodec.GenesisHash)
                    {
                        problem = new AuditProblem(name, line, offset, r.Seq, "the first record (seq 0) must link to the genesis hash");
                        break;
                    }
                }
                else
                {
                    if (r.Seq != previous.Seq + 1)
                    {
                        var missing = r.Seq - previous.Seq - 1;
                        problem = new AuditProblem(name, line, offset, r.Seq,
                            missing > 0
                                ? string.Create(CultureInfo.InvariantCulture, $"seq {previous.Seq + 1} expected after seq {previous.Seq}: {missing} record(s) missing")
                                : string.Create(CultureInfo.InvariantCulture, $"seq {previous.Seq + 1} expected after seq {previous.Seq}: records or files out of order"));
                        break;
                    }

                    if (r.Prev != previous.Hash)
                    {
                        problem = new AuditProblem(name, line, offset, r.Seq,
                            string.Create(CultureInfo.InvariantCulture, $"prev {r.Prev[..12]}... does not match the hash {previous.Hash[..12]}... of seq {previous.Seq}: a record before it was altered, removed or reordered"));
                        break;
                    }
                }

                if (r.Pruned is { } p)
                {
                    pruned.Add(p);
                }

                if (anchor is { } a && a.Seq == r.Seq)
                {
                    if (!string.Equals(a.Hash, r.Hash, StringComparison.OrdinalIgnoreCase))
                    {
                        problem = new AuditProblem(name, line, offset, r.Seq, $"the anchor says seq {a.Seq} has hash {a.Hash}, the log has {r.Hash}");
                        break;
                    }

                    anchorSeen = true;
                }

                previous = r;
                records++;
                offset = newline + 1;
            }

            if (problem is not null)
            {
                break;
            }
        }

        if (problem is null && first is { Seq: > 0 } f)
        {
            var accounted = pruned.Any(p => p.LastSeq == f.Seq - 1 && string.Equals(p.LastHash, f.Prev, StringComparison.Ordinal));
            if (accounted)
            {
                warnings.Add(string.Create(CultureInfo.InvariantCulture, $"records before seq {f.Seq} were deleted by rotation under the disk bound (an audit-pruned record accounts for them)"));
            }
            else
            {
                problem = new AuditProblem(firstAt!.Value.File, firstAt.Value.Line, firstAt.Value.Offset, f.Seq,
                    string.Create(CultureInfo.InvariantCulture, $"the chain starts at seq {f.Seq} but no audit-pruned record accounts for the records before it (a file was deleted or truncated outside rotation)"));
            }
        }

        if (problem is null && anchor is { } want && !anchorSeen)
        {
            if (want.Seq > (previous?.Seq ?? -1))
            {
                var last = files.Count > 0 ? Path.GetFileName(files[^1].Path) : "(no files)";
                problem = new AuditProblem(last, 0, 0, previous?.Seq,
                    string.Create(CultureInfo.InvariantCulture, $"the anchor names seq {want.Seq} but the log ends at seq {previous?.Seq ?? -1}: records were removed from its end"));
            }
            else
            {
                warnings.Add(string.Create(CultureInfo.InvariantCulture, $"the anchor's seq {want.Seq} was rotated out (the log starts at seq {first?.Seq ?? -1}); verify with a newer anchor"));
            }
        }

        return new AuditVerification(files.Count, records, first?.Seq ?? -1, previous?.Seq ?? -1, previous?.Hash ?? AuditRecordCodec.GenesisHash, problem, warnings);
    }
}
